"""Speed of "other colours" answers, and the replay sweep that chooses the Rocchio liked_weight.

- `bench_other_colours(search, queries)`: p50 / p95 ms of `InstanceSearch.other_colours` on
  seeded items of a built gallery;
- `bench_other_colours_turns(agent, queries)`: the agent's "other colours" turns beside that
  bare search, interleaved (what `circhat bench` reports beside its 30 ms target);
- `sweep_liked_weight(...)`: exact Hits@10 within 3 turns of the replay (filters off) for
  each liked_weight, chosen on a selection seed, then reported on the default seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from eval.bench.timing import interleaved, versus_bare
from retrieval.catalogues import CatalogueRef
from retrieval.encoders import DEFAULT_MODEL

log = logging.getLogger(__name__)
OTHER_COLOURS_P95_MS = 30.0  # the target of an "other colours" answer
LIKED_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5)
SELECTION_SEED = 7  # chooses the weight; the default replay seed (0) reports it


def bench_other_colours(search, queries: int = 300, k: int = 10, seed: int = 0) -> dict:
    """p50 / p95 / mean ms of `search.other_colours(item, k)` over seeded gallery items.

    Args:
        search: an `retrieval.instance.search.InstanceSearch` of a built gallery.
        queries: items asked about (after 10 warm-up calls).
    Returns:
        {"queries", "k", "p50_ms", "p95_ms", "mean_ms", "target_p95_ms", "met", "settings"}.
    """
    ids = search.item_ids
    rng = np.random.default_rng([seed, 18])
    picks = [ids[int(i)] for i in rng.integers(len(ids), size=queries + 10)]
    times = interleaved(picks, {"search": lambda item_id: search.other_colours(item_id, k)}, 10)
    times = times["search"]
    p50, p95 = np.percentile(times, [50, 95])
    return {
        "queries": queries,
        "k": k,
        "gallery": len(ids),
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "mean_ms": round(float(np.mean(times)), 3),
        "target_p95_ms": OTHER_COLOURS_P95_MS,
        "met": bool(p95 <= OTHER_COLOURS_P95_MS),
        "settings": search.describe(),
    }


def replay_hits(agent, weight: float, dialogues: int, seed: int, composer: str) -> dict:
    """Exact Hits@10 by turn (0..3) of one replay with `liked_weight = weight`."""
    from eval.replay import replay_model, summarize
    from eval.single_turn import DEFAULT_PHRASEBOOK
    from retrieval.training.phrasebook import Phrasebook

    agent.config = agent.config.model_copy(update={"liked_weight": float(weight)})
    phrasebook = Phrasebook.load(DEFAULT_PHRASEBOOK)
    result = replay_model(agent, composer, dialogues, 3, phrasebook, seed)
    summary = summarize(result, len(agent.index), agent.config.k)
    by_turn = summary[f"exact_hits_at_{agent.config.k}_by_turn"]
    return {"liked_weight": weight, "seed": seed, "hits_by_turn": by_turn, "within_3": by_turn[3]}


def sweep_liked_weight(
    weights: Sequence[float] = LIKED_WEIGHTS,
    dialogues: int = 500,
    selection_seed: int = SELECTION_SEED,
    report_seed: int = 0,
    composer: str | None = None,
    model: str = DEFAULT_MODEL,
    catalogue: CatalogueRef | None = None,
) -> dict:
    """Choose the Rocchio liked_weight by replay (filters off) on `selection_seed`, then report
    exact Hits@10 within 3 turns on `report_seed` for the chosen weight and for 0.

    Returns:
        {"selection": {weight: hits}, "chosen": w, "report": {"0.0": hits, str(w): hits},
         "settings": {...}}; hits are exact Hits@10 at or before turn 3.
    """
    from agent.agent import AgentConfig
    from agent.factory import build_agent
    from retrieval.compose import DEFAULT_COMPOSER

    composer = composer or DEFAULT_COMPOSER
    config = AgentConfig(k=10, hard_constraints=False)
    ref = catalogue or CatalogueRef()
    agent = build_agent(model, ref, None, composer, "rules", config)
    selection = {}
    for weight in weights:
        row = replay_hits(agent, weight, dialogues, selection_seed, composer)
        selection[str(weight)] = row["within_3"]
        log.info("liked_weight %s (seed %d): %s", weight, selection_seed, row["hits_by_turn"])
    chosen = max(weights, key=lambda w: (selection[str(w)], -w))  # ties: the smaller weight
    report = {}
    for weight in dict.fromkeys([0.0, chosen]):
        report[str(weight)] = replay_hits(agent, weight, dialogues, report_seed, composer)
    settings = {
        "dialogues": dialogues,
        "turns": 3,
        "filters": "off",
        "composer": composer,
        "model": model,
        "catalogue": catalogue,
        "selection_seed": selection_seed,
        "report_seed": report_seed,
    }
    return {"selection": selection, "chosen": chosen, "report": report, "settings": settings}


def bench_other_colours_turns(agent, queries: int = 200, seed: int = 0) -> dict:
    """ "Other colours" as the shopper gets it (Agent.other_colours: the instance search, the
    same kind in another colour first, the turn recorded) against the bare instance search of
    the same items, interleaved; the instance index is opened (built if missing) first."""
    search = agent.colours.instance.get()
    ids = search.item_ids
    rng = np.random.default_rng([seed, 19])
    picks = [ids[int(i)] for i in rng.integers(len(ids), size=queries + 10)]
    state = agent.new_state()
    times = interleaved(
        picks,
        {
            "turn": lambda item_id: agent.other_colours(state, item_id),
            "bare": lambda item_id: search.other_colours(item_id, agent.config.k),
        },
        warmup=10,
    )
    return {
        **versus_bare(times["turn"], times["bare"]),
        "queries": queries,
        "gallery": len(ids),
        "target_p95_ms": OTHER_COLOURS_P95_MS,
        "settings": search.describe(),
    }
