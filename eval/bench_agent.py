"""Agent turn latency for `circhat bench`: Agent.step against the bare encoder + FAISS search."""

from __future__ import annotations

import time

import numpy as np

from retrieval.catalogues.schema import CatalogueSchema
from retrieval.training.phrasebook import Phrasebook
from retrieval.training.triplets import edit_attributes


def percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(ms, 50)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
    }


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
    uncached, cached, bare_ms = [], [], []
    dialogue = seeded_turns(agent, count + warmup, seed)
    state, turn = next(dialogue)
    for i in range(count + warmup):
        t = time.perf_counter()
        agent.step(state, turn)
        warm = (time.perf_counter() - t) * 1000
        forget_texts(agent.encoder)
        t = time.perf_counter()
        state, _ = agent.step(state, turn)
        cold = (time.perf_counter() - t) * 1000
        query = np.asarray(state.last_query, np.float32)[None]
        forget_texts(agent.encoder)
        t = time.perf_counter()
        agent.encoder.encode_texts([turn.text])
        agent.index.index.search(query, agent.config.k)
        bare = (time.perf_counter() - t) * 1000
        if i >= warmup:
            uncached.append(cold)
            cached.append(warm)
            bare_ms.append(bare)
        if i + 1 < count + warmup:
            state, turn = dialogue.send(state)
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
    turns_ms, bare_ms = [], []
    for i, position in enumerate(positions):
        item = catalogue.items[int(position)]
        data = _image_bytes(catalogue, int(position))
        t = time.perf_counter()
        image = decode_image(data, item.id)
        agent.step(agent.new_state(), Turn(image=image, text="more like this"))
        turn = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        vector = agent.encoder.encode_images([decode_image(data, item.id)])
        agent.index.index.search(vector, agent.config.k)
        bare = (time.perf_counter() - t) * 1000
        if i >= warmup:
            turns_ms.append(turn)
            bare_ms.append(bare)
    turn_p, bare_p = percentiles(turns_ms), percentiles(bare_ms)
    return {
        **turn_p,
        "bare": bare_p,
        "ratio_to_bare": round(turn_p["p95"] / bare_p["p95"], 3),
        "turns": len(turns_ms),
    }


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
    with_ms, without_ms = [], []
    dialogue = seeded_turns(agent, count, seed)
    state, turn = next(dialogue)
    try:
        for i in range(count):
            for config, times in ((off, without_ms), (on, with_ms)):
                agent.config = config
                forget_texts(agent.encoder)  # both encode the text: only the initiative differs
                t = time.perf_counter()
                after, _ = agent.step(state, turn)
                times.append((time.perf_counter() - t) * 1000)
            state = after  # the dialogue goes on from the turn with suggestions
            if i + 1 < count:
                state, turn = dialogue.send(state)
    finally:
        agent.config = on
    with_p, without_p = percentiles(with_ms[3:]), percentiles(without_ms[3:])
    return {
        **with_p,
        "without": without_p,
        "added_p95_ms": round(with_p["p95"] - without_p["p95"], 3),
        "turns": len(with_ms) - 3,
    }
