"""Replay simulated dialogues through Agent.step and score every turn."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from agent.agent import Agent, Turn
from eval import dialogue_metrics as metrics
from eval.simulator import SimulatedShopper
from retrieval.progress import bar as progress_bar
from retrieval.training.phrasebook import Phrasebook
from retrieval.training.triplets import edit_attributes

KS = (1, 5, 10, 50)


@dataclass
class ReplayResult:
    model: str
    exact_ranks: np.ndarray  # (N, T+1) rank of the target in each turn's ranking, -1 = beyond
    attribute_ranks: np.ndarray  # (N, T+1) rank of the first item with the target's attributes
    seconds: float
    llm_calls: int = 0
    transcripts: list | None = None


def _ranks(
    ranking: list[str], target_id: str, target_attributes: dict, items_by_id: dict
) -> tuple[int, int]:
    """The target's rank, and the rank of the first item with all its (asked-about) attributes."""
    exact = ranking.index(target_id) if target_id in ranking else -1
    attribute = next(
        (
            i
            for i, item_id in enumerate(ranking)
            if all(
                items_by_id[item_id].attributes.get(a) == v for a, v in target_attributes.items()
            )
        ),
        -1,
    )
    return exact, attribute


def dialogue_plan(n_items: int, dialogues: int, seed: int) -> list[tuple[int, int]]:
    """(target, start) rows per dialogue: the same for every model, from the seed."""
    rng = np.random.default_rng([seed, 0])
    plan = []
    for _ in range(dialogues):
        target, start = rng.choice(n_items, 2, replace=False)
        plan.append((int(target), int(start)))
    return plan


def replay_model(
    agent: Agent,
    catalogue,
    model: str,
    dialogues: int,
    turns: int,
    phrasebook: Phrasebook,
    seed: int,
    keep_transcripts: int = 0,
) -> ReplayResult:
    """Run `dialogues` seeded dialogues of `turns` turns with composition model `model`."""
    items = agent.index.items
    items_by_id = {item.id: item for item in items}
    shapes = catalogue.shape_features()
    if shapes is None:  # photos: the encoder's image vectors stand for what items look like
        shapes = np.asarray(agent.index.vectors, np.float32)
    attributes = edit_attributes(agent.schema)
    depth = max(KS)
    exact = np.full((dialogues, turns + 1), -1)
    attribute = np.full((dialogues, turns + 1), -1)
    calls_before = getattr(agent.rewriter, "calls", 0)
    transcripts = []
    started = time.perf_counter()
    for d, (target, start) in enumerate(
        progress_bar(
            dialogue_plan(len(items), dialogues, seed), desc=f"replay {model}", unit="dialogue"
        )
    ):
        rng = np.random.default_rng([seed, 1, d])
        shopper = SimulatedShopper(target, items, shapes, phrasebook, rng, attributes=attributes)
        state = agent.new_state(model)
        state, shown = agent.step(state, Turn(item=items[start].id), depth=depth)
        target_id = items[target].id
        for t in range(turns + 1):
            ranking = state.turns[-1].ranking
            exact[d, t], attribute[d, t] = _ranks(
                ranking, target_id, shopper.target_attributes, items_by_id
            )
            if t == turns:
                break
            state, shown = agent.step(state, shopper.respond(shown), depth=depth)
        if d < keep_transcripts:
            transcripts.append(
                {
                    "target": target_id,
                    "start": items[start].id,
                    "turns": [
                        {
                            "text": tr.user_text,
                            "caption": tr.caption,
                            "selected": tr.reference_id,
                            "shown": [r.id for r in tr.results],
                        }
                        for tr in state.turns
                    ],
                }
            )
    seconds = time.perf_counter() - started
    calls = getattr(agent.rewriter, "calls", 0) - calls_before
    return ReplayResult(model, exact, attribute, seconds, calls, transcripts)


def summarize(result: ReplayResult, gallery_size: int, k: int = 10) -> dict:
    """Per-turn metrics of one model (entry t is after turn t; t0 = the start's own results)."""
    out = {}
    for level, ranks in (("exact", result.exact_ranks), ("attribute", result.attribute_ranks)):
        out[f"{level}_hits_at_{k}_by_turn"] = metrics.hits_at_k_by_turn(ranks, k).round(4).tolist()
        out[f"{level}_recall_by_turn"] = {
            str(kk): metrics.recall_at_k_by_turn(ranks, kk).round(4).tolist() for kk in KS
        }
        summary = metrics.turns_to_hit_summary(ranks, k)
        out[f"mean_turns_to_{level}_hit"] = _finite(summary["mean"])
        out[f"median_turns_to_{level}_hit"] = _finite(summary["median"])
        out[f"{level}_success_within_{ranks.shape[1] - 1}_turns"] = round(
            metrics.success_within(ranks, k, ranks.shape[1] - 1), 4
        )
        out[f"{level}_bri"] = round(metrics.bri(ranks, gallery_size), 4)
    out["bri"] = out["exact_bri"]
    out["seconds"] = round(result.seconds, 1)
    out["llm_calls"] = result.llm_calls
    return out


def _finite(x: float) -> float | None:
    return None if x != x else round(float(x), 3)
