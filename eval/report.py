"""Replay reports: JSON, a Markdown table, and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def markdown(summary: dict, k: int = 10) -> str:
    models = summary["models"]
    turns = len(next(iter(models.values()))[f"exact_hits_at_{k}_by_turn"]) - 1
    head = (
        "| model | "
        + " | ".join(f"exact Hits@{k} t{t}" for t in range(turns + 1))
        + " | "
        + " | ".join(f"attr Hits@{k} t{t}" for t in range(turns + 1))
        + " | mean turns to exact hit | BRI |"
    )
    lines = [head, "|---" * (2 * turns + 5) + "|"]
    for name, m in models.items():
        cells = [f"{x:.3f}" for x in m[f"exact_hits_at_{k}_by_turn"]]
        cells += [f"{x:.3f}" for x in m[f"attribute_hits_at_{k}_by_turn"]]
        mean = m["mean_turns_to_exact_hit"]
        cells += ["-" if mean is None else f"{mean:.2f}", f"{m['bri']:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(summary: dict, exact_ranks: dict[str, np.ndarray], out: Path, k: int = 10) -> list[Path]:
    """Hits@k against turn per model, and a histogram of turns to the first exact hit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eval.dialogue_metrics import turns_to_first_hit

    paths = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, m in summary["models"].items():
        hits = m[f"exact_hits_at_{k}_by_turn"]
        ax.plot(range(len(hits)), hits, marker="o", label=name)
    ax.set(
        xlabel="turn",
        ylabel=f"exact Hits@{k} (cumulative)",
        ylim=(0, 1.02),
        title="Replayed dialogues",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / f"hits_at_{k}_by_turn.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = list(exact_ranks)
    turns = next(iter(exact_ranks.values())).shape[1]
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        first = turns_to_first_hit(exact_ranks[name], k)
        counts = [int(np.sum(first == t)) for t in range(turns)] + [int(np.isnan(first).sum())]
        ax.bar(np.arange(turns + 1) + i * width - 0.4 + width / 2, counts, width=width, label=name)
    ax.set_xticks(range(turns + 1), [str(t) for t in range(turns)] + ["never"])
    ax.set(
        xlabel="turn of the first exact hit",
        ylabel="dialogues",
        title=f"Turns to the first Hits@{k}",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "turns_to_hit.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def write_reports(summary: dict, exact_ranks: dict[str, np.ndarray], out: str | Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "replay.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "replay.md").write_text(markdown(summary) + "\n")
    return [out / "replay.json", out / "replay.md", *plot(summary, exact_ranks, out)]
