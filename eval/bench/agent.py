"""Agent turn latency for `circhat bench`: Agent.step against the bare encoder + FAISS search."""

from __future__ import annotations

import numpy as np

from eval.bench.timing import interleaved, percentiles, versus_bare
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.training.phrasebook import Phrasebook
from retrieval.training.triplets import edit_attributes


def turn_phrasebook(schema: CatalogueSchema) -> Phrasebook:
    """The evaluation phrasebook for fmnist-color; one from the schema for other catalogues."""
    from eval.single_turn import DEFAULT_PHRASEBOOK, EVAL_ROLES

    if schema.name == "fmnist-color":
        return Phrasebook.load(DEFAULT_PHRASEBOOK)
    return Phrasebook.for_schema(schema, EVAL_ROLES)


def _edited(schema: CatalogueSchema) -> list[str]:
    """The attributes the timed refinements change: colour and pattern where the schema
    has them (as a shopper's "in red", "with stripes"), else any it can edit."""
    names = [n for n in edit_attributes(schema) if schema.role(n) in ("color", "pattern")]
    return names or edit_attributes(schema)


def seeded_turns(agent, count: int, seed: int):
    """Seeded dialogues of three turns: a text turn (a caption of random attribute values),
    then two select + text turns that change one attribute of the picked result."""
    from agent.agent import Turn

    schema = agent.schema
    phrasebook = turn_phrasebook(schema)
    values = {a: schema.attributes[a].values for a in schema.categorical}
    edited = _edited(schema)
    rng = np.random.default_rng(seed)
    state = None
    for i in range(count):
        if i % 3 == 0 or not state.last_results:
            state = agent.new_state()
            attrs = {a: v[rng.integers(len(v))] for a, v in values.items()}
            turn = Turn(text=schema.caption(attrs))
        else:
            picked = state.last_results[rng.integers(len(state.last_results))]
            attribute = edited[rng.integers(len(edited))]
            options = [v for v in values[attribute] if v != picked.attributes.get(attribute)]
            text = phrasebook.say({attribute: options[rng.integers(len(options))]}, rng)
            turn = Turn(select=picked.id, text=text)
        state = yield state, turn


def played_turns(agent, count: int, seed: int, now: dict):
    """The seeded turns as timing cases: before yielding a turn, `now["state"]` is the state
    it is played on; the next turn follows from `now["after"]`, the state a run left there."""
    dialogue = seeded_turns(agent, count, seed)
    state, turn = next(dialogue)
    for i in range(count):
        now["state"] = state
        yield turn
        if i + 1 < count:
            state, turn = dialogue.send(now["after"])


def forget_texts(encoder) -> None:
    """Empty the encoder's cache of recent texts (if it has one): the next encode is real."""
    getattr(encoder, "_text_cache", {}).clear()


def bench_turns(agent, count: int, seed: int = 0, warmup: int = 6) -> dict:
    """Agent.step latency vs the bare encoder (encode_texts of the same text) + FAISS search
    of the same query vector, turn by turn, interleaved so all see the same machine load.

    The headline figures are uncached: the encoder's text cache is emptied before each timed
    agent turn and each bare encode, so every text is encoded (a new phrasing). `cached`
    holds the agent as shipped, its text cache warm from earlier turns.
    """
    now: dict = {}

    def cold(turn) -> None:
        now["after"], _ = agent.step(now["state"], turn)

    def bare_query(_turn) -> None:
        forget_texts(agent.encoder)
        now["query"] = np.asarray(now["after"].last_query, np.float32)[None]

    def bare(turn) -> None:
        agent.encoder.encode_texts([turn.text])
        agent.index.index.search(now["query"], agent.config.k)

    times = interleaved(
        played_turns(agent, count + warmup, seed, now),
        {"warm": lambda turn: agent.step(now["state"], turn), "cold": cold, "bare": bare},
        warmup,
        before={"cold": lambda _: forget_texts(agent.encoder), "bare": bare_query},
    )
    uncached, cached, bare_ms = times["cold"], times["warm"], times["bare"]
    agent_p, warm_p, bare_p = percentiles(uncached), percentiles(cached), percentiles(bare_ms)
    return {
        **agent_p,
        "ratio_to_bare": round(agent_p["p95"] / bare_p["p95"], 3),
        "p50_ratio_to_bare": round(agent_p["p50"] / bare_p["p50"], 3),
        "bare": bare_p,
        "cached": {**warm_p, "ratio_to_bare": round(warm_p["p95"] / bare_p["p95"], 3)},
        "turns": count,
        "gallery": len(agent.index),
        "composer": agent.default_composer,
    }


def bench_uploads(agent, catalogue, count: int = 60, seed: int = 0, warmup: int = 3) -> dict:
    """An upload turn (the photo's bytes decoded, encoded, composed with a short request and
    searched) against the bare encoder + search of the same image, interleaved."""
    from agent.agent import Turn
    from retrieval.catalogues.images import decode_image

    rng = np.random.default_rng([seed, 7])
    positions = rng.choice(len(catalogue), min(count + warmup, len(catalogue)), replace=False)
    photos = ((catalogue.items[int(p)].id, _image_bytes(catalogue, int(p))) for p in positions)

    def turn(photo) -> None:
        item_id, data = photo
        agent.step(
            agent.new_state(), Turn(image=decode_image(data, item_id), text="more like this")
        )

    def bare(photo) -> None:
        item_id, data = photo
        vector = agent.encoder.encode_images([decode_image(data, item_id)])
        agent.index.index.search(vector, agent.config.k)

    times = interleaved(photos, {"turn": turn, "bare": bare}, warmup)
    return {**versus_bare(times["turn"], times["bare"]), "turns": len(times["turn"])}


def _image_bytes(catalogue, position: int) -> bytes:
    """The photo file's bytes; a rendered catalogue's image as PNG."""
    from pathlib import Path

    source = Path(catalogue.items[position].source)
    if source.is_file():
        return source.read_bytes()
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(catalogue.load([position])[0].image).save(buffer, "PNG")
    return buffer.getvalue()


def bench_initiative(agent, count: int, seed: int = 0) -> dict:
    """Agent.step with suggestions and questions (AgentConfig.initiative) against the same
    turn without them, interleaved on the same seeded turns (each encodes its text afresh)."""
    on = agent.config.model_copy(update={"initiative": True})
    off = agent.config.model_copy(update={"initiative": False})
    now: dict = {}  # the dialogue goes on from the turn with suggestions

    def setting(config):
        def apply(_turn) -> None:
            agent.config = config
            forget_texts(agent.encoder)  # both encode the text: only the initiative differs

        return apply

    def with_initiative(turn) -> None:
        now["after"], _ = agent.step(now["state"], turn)

    try:
        times = interleaved(
            played_turns(agent, count, seed, now),
            {"without": lambda turn: agent.step(now["state"], turn), "with": with_initiative},
            warmup=3,
            before={"without": setting(off), "with": setting(on)},
        )
    finally:
        agent.config = on
    with_ms, without_ms = times["with"], times["without"]
    with_p, without_p = percentiles(with_ms), percentiles(without_ms)
    return {
        **with_p,
        "without": without_p,
        "added_p95_ms": round(with_p["p95"] - without_p["p95"], 3),
        "turns": len(with_ms),
    }
