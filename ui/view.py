"""What the app shows for a dialogue state: gallery items, chat lines and the details panel."""

from __future__ import annotations

import base64
import io

import numpy as np

from agent.state import DialogueState, Result
from ui.replies import constraint_text

ANY_CATEGORY = "any"
DISPLAY_SCALE = 3  # 64 px catalogue images are shown at 192 px
STAGES = ("rewrite", "compose", "search", "total")


def upscale(image: np.ndarray, factor: int = DISPLAY_SCALE) -> np.ndarray:
    """(H, W, 3) -> (H*f, W*f, 3), nearest neighbour, for images smaller than 128 px."""
    if factor <= 1 or max(image.shape[:2]) >= 128:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def item_images(catalogue, ids: list[str]) -> list[np.ndarray]:
    """The catalogue images of `ids`, in order, upscaled for display."""
    if not ids:
        return []
    loaded = catalogue.load([catalogue.index_of(i) for i in ids])
    return [
        upscale(x.image) if x.image is not None else np.zeros((64, 64, 3), np.uint8) for x in loaded
    ]


def describe(result: Result) -> str:
    """'red striped dress' from the attributes (colour, pattern, category first)."""
    order = ["color", "pattern", "category"]
    keys = [k for k in order if k in result.attributes]
    keys += [k for k in result.attributes if k not in order]
    return " ".join(result.attributes[k] for k in keys)


def gallery_caption(rank: int, result: Result) -> str:
    """'3. test-00012: red striped dress | matches color=red, pattern=striped'."""
    caption = f"{rank}. {result.id}: {describe(result)}".rstrip(": ")
    if result.matches:
        caption += f" | matches {', '.join(result.matches)}"
    return caption


def gallery_items(catalogue, results: list[Result]) -> list[tuple[np.ndarray, str]]:
    images = item_images(catalogue, [r.id for r in results])
    return [(img, gallery_caption(i, r)) for i, (img, r) in enumerate(zip(images, results), 1)]


def reference_image(catalogue, state: DialogueState, picked: str | None) -> np.ndarray | None:
    """The image the next turn starts from: a picked result, else the state's reference."""
    if picked:
        return item_images(catalogue, [picked])[0]
    ref = state.reference
    if ref is None:
        return None
    if ref.kind == "upload":
        from PIL import Image

        data = base64.b64decode(ref.thumbnail_png)
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return item_images(catalogue, [ref.item_id])[0]


def active_category(state: DialogueState, kind: str | None) -> str:
    required = [
        c.value for c in state.constraints if c.attribute == kind and c.polarity == "require"
    ]
    return required[-1] if required else ANY_CATEGORY


def details_markdown(agent, state: DialogueState) -> str:
    """Per-stage latency of the last turn, device and model ids, active constraints."""
    encoder = agent.encoder
    dtype = str(getattr(encoder, "dtype", "")).replace("torch.", "")
    lines = [
        f"**Models**: encoder `{encoder.model_id}` on `{encoder.device}` ({dtype}), "
        f"composer `{state.composer}`, rewriter `{getattr(agent.rewriter, 'name', '?')}`, "
        f"{len(agent.index):,} items indexed",
    ]
    if state.turns:
        timings = state.turns[-1].timings_ms
        stages = ", ".join(f"{s} {timings[s]:.1f} ms" for s in STAGES if s in timings)
        lines.append(f"**Last turn**: {stages}")
    if state.constraints:
        lines.append(f"**Filters**: {constraint_text(state.constraints)}")
    return "\n\n".join(lines)
