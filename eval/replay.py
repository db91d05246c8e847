"""Replay simulated dialogues through Agent.step and score every turn.

Each turn records the target's rank in the shown ranking (the top 50, for Hits@K and
Recall@K, as ChatIR's cumulative hits count them) and its true rank in the whole gallery under
the turn's filters and exclusions (for PlugIR's BRI), at two levels: the exact target item,
and any item with the target's attributes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from agent.agent import Agent, Turn
from agent.state import Constraint
from eval import dialogue_metrics as metrics
from eval.simulator import SimulatedShopper
from retrieval.progress import bar as progress_bar
from retrieval.training.phrasebook import Phrasebook
from retrieval.training.triplets import edit_attributes

KS = (1, 5, 10, 50)
LEVELS = ("exact", "attribute")


@dataclass
class ReplayResult:
    model: str
    exact_ranks: np.ndarray  # (N, T+1) rank of the target in each turn's top 50, -1 = beyond
    attribute_ranks: np.ndarray  # (N, T+1) rank of the first item with the target's attributes
    seconds: float
    llm_calls: int = 0
    transcripts: list | None = None
    true_ranks: dict[str, np.ndarray] | None = None  # level -> (N, T+1) whole-gallery ranks


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


def true_ranks(
    scores: np.ndarray, mask: np.ndarray, targets: dict[str, np.ndarray]
) -> dict[str, int]:
    """{name: 0-based rank} of the best of each set of rows (a (N,) bool array) in the whole
    gallery under a turn's filters and exclusions (`mask`, (N,) bool): the allowed items
    scoring above it (`scores`, (N,)). A set the turn could show none of ranks after every
    allowed item."""
    ranks = {}
    for name, rows in targets.items():
        reachable = rows & mask
        if not reachable.any():
            ranks[name] = int(mask.sum())
            continue
        best = scores[reachable].max()
        ranks[name] = int(np.count_nonzero(mask & (scores > best)))
    return ranks


class TargetRanks:
    """The replay's TurnObserver: after each turn's search, the ids of its top-`depth`
    ranking and the true rank of each target set (see `true_ranks`)."""

    def __init__(self, vectors: np.ndarray, depth: int, targets: dict[str, np.ndarray]):
        self.vectors, self.depth, self.targets = vectors, depth, targets  # vectors (N, D)
        self.ranking: list[str] = []
        self.ranks: dict[str, int] = {}

    def on_search(self, state, query: np.ndarray, mask: np.ndarray, ranking: list[str]) -> None:
        self.ranking = ranking
        self.ranks = true_ranks(self.vectors @ np.asarray(query, np.float32), mask, self.targets)


def dialogue_plan(n_items: int, dialogues: int, seed: int) -> list[tuple[int, int]]:
    """(target, start) rows per dialogue: the same for every model, from the seed."""
    if dialogues < 1:
        raise ValueError(f"--dialogues must be at least 1, not {dialogues}")
    if n_items < 2:
        raise ValueError(f"a replay needs a gallery of at least 2 items, not {n_items}")
    rng = np.random.default_rng([seed, 0])
    plan = []
    for _ in range(dialogues):
        target, start = rng.choice(n_items, 2, replace=False)
        plan.append((int(target), int(start)))
    return plan


class _Replayer:
    """What every dialogue of one replay shares: the agent, the gallery, the shopper's view."""

    def __init__(
        self,
        agent: Agent,
        phrasebook: Phrasebook,
        turns: int,
        seed: int,
        suggestion_use: float = 0.0,
    ):
        self.agent, self.phrasebook, self.turns, self.seed = agent, phrasebook, turns, seed
        self.suggestion_use = suggestion_use
        self.items = agent.index.items
        self.items_by_id = {item.id: item for item in self.items}
        self.vectors = np.asarray(agent.index.vectors, np.float32)  # (N, D)
        shapes = agent.gallery.catalogue.shape_features()
        if shapes is None:  # photos: the encoder's image vectors stand for what items look like
            shapes = np.asarray(agent.index.vectors, np.float32)
        self.shapes = shapes
        self.attributes = edit_attributes(agent.schema)
        self.table = agent.gallery.table

    def _targets(self, shopper: SimulatedShopper) -> dict[str, np.ndarray]:
        exact = np.zeros(len(self.items), bool)
        exact[shopper.target] = True
        wanted = [Constraint(attribute=a, value=v) for a, v in shopper.target_attributes.items()]
        return {"exact": exact, "attribute": self.table.mask(wanted)}

    def dialogue(self, d: int, target: int, start: int, model: str):
        """(top-50 ranks (2, T+1), true ranks (2, T+1), the final state) of one dialogue."""
        agent, depth = self.agent, max(KS)
        rng = np.random.default_rng([self.seed, 1, d])
        shopper = SimulatedShopper(
            target,
            self.items,
            self.shapes,
            self.phrasebook,
            rng,
            attributes=self.attributes,
            suggestion_use=self.suggestion_use,
            choice_rng=np.random.default_rng([self.seed, 2, d]),
        )
        seen = TargetRanks(self.vectors, depth, self._targets(shopper))
        state = agent.new_state(model)
        state, shown = agent.step(state, Turn(item=self.items[start].id), seen)
        shown_ranks = np.full((2, self.turns + 1), -1)
        true = np.full((2, self.turns + 1), -1)
        for t in range(self.turns + 1):
            shown_ranks[:, t] = _ranks(
                seen.ranking, self.items[target].id, shopper.target_attributes, self.items_by_id
            )
            true[:, t] = [seen.ranks[level] for level in LEVELS]
            if t == self.turns:
                break
            turn = shopper.respond(shown, state.turns[-1].offer)
            seen.ranking, seen.ranks = [], {}
            state, shown = agent.step(state, turn, seen)
        return shown_ranks, true, state


def _transcript(state, target_id: str, start_id: str) -> dict:
    return {
        "target": target_id,
        "start": start_id,
        "turns": [
            {
                "text": tr.user_text,
                "chose": tr.constraints[0].value if tr.action == "choose" else None,
                "caption": tr.caption,
                "selected": tr.reference_id,
                "shown": [r.id for r in tr.results],
            }
            for tr in state.turns
        ],
    }


def replay_model(
    agent: Agent,
    model: str,
    dialogues: int,
    turns: int,
    phrasebook: Phrasebook,
    seed: int,
    keep_transcripts: int = 0,
    suggestion_use: float = 0.0,
) -> ReplayResult:
    """Run `dialogues` seeded dialogues of `turns` turns with composition model `model`;
    the shopper clicks a chip that agrees with its target with chance `suggestion_use`."""
    if turns < 1:
        raise ValueError(f"--turns must be at least 1, not {turns}")
    if not 0.0 <= suggestion_use <= 1.0:
        raise ValueError(f"--suggestion-use must be between 0 and 1, not {suggestion_use}")
    replayer = _Replayer(agent, phrasebook, turns, seed, suggestion_use)
    plan = dialogue_plan(len(replayer.items), dialogues, seed)
    shown = np.full((2, dialogues, turns + 1), -1)
    true = np.full((2, dialogues, turns + 1), -1)
    calls_before = agent.rewriter.calls
    transcripts = []
    started = time.perf_counter()
    for d, (target, start) in enumerate(
        progress_bar(plan, desc=f"replay {model}", unit="dialogue")
    ):
        shown[:, d], true[:, d], state = replayer.dialogue(d, target, start, model)
        if d < keep_transcripts:
            transcripts.append(
                _transcript(state, replayer.items[target].id, replayer.items[start].id)
            )
    seconds = time.perf_counter() - started
    calls = agent.rewriter.calls - calls_before
    true_ranks = dict(zip(LEVELS, true))
    return ReplayResult(model, shown[0], shown[1], seconds, calls, transcripts, true_ranks)


def replay_models(
    agent: Agent,
    names: list[str],
    dialogues: int,
    turns: int,
    phrasebook: Phrasebook,
    seed: int,
    suggestion_use: float = 0.0,
) -> tuple[dict, dict]:
    """Replay each composition model of `names` on the same seeded dialogues (see
    `replay_model`): ({name: its summary at the agent's k}, {name: exact ranks (N, T+1)})."""
    summaries, ranks = {}, {}
    for name in names:
        agent.composer(name)  # fails early on a model without weights
        result = replay_model(
            agent,
            name,
            dialogues,
            turns,
            phrasebook,
            seed,
            suggestion_use=suggestion_use,
        )
        ranks[name] = result.exact_ranks
        summaries[name] = summarize(result, len(agent.index), agent.config.k)
    return summaries, ranks


def summarize(result: ReplayResult, gallery_size: int, k: int = 10) -> dict:
    """Per-turn metrics of one model (entry t is after turn t; t0 = the start's own results).

    `bri` / `{level}_bri` are PlugIR's BRI on the true whole-gallery ranks;
    `{level}_bri_top50_log2` is circhat's earlier figure (log2, a plain mean over the turns,
    ranks beyond the top 50 counted as the gallery size), kept to compare with old reports.
    """
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
        if result.true_ranks is not None:
            true = result.true_ranks[level]
            out[f"{level}_bri"] = round(metrics.bri(true), 4)
            out[f"{level}_true_rank_by_turn"] = {
                "median": np.median(np.minimum.accumulate(true, axis=1), axis=0).tolist()
            }
        out[f"{level}_bri_top50_log2"] = round(metrics.log2_best_rank_mean(ranks, gallery_size), 4)
    out["bri"] = out.get("exact_bri", out["exact_bri_top50_log2"])
    out["seconds"] = round(result.seconds, 1)
    out["llm_calls"] = result.llm_calls
    return out


def _finite(x: float) -> float | None:
    return None if x != x else round(float(x), 3)
