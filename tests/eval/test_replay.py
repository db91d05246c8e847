import json

import numpy as np
import pytest

from agent.agent import Agent, AgentConfig
from eval.replay import dialogue_plan, replay_model, summarize
from eval.report import write_reports
from eval.simulator import SimulatedShopper
from eval.single_turn import DEFAULT_PHRASEBOOK
from retrieval.indexing.gallery import Gallery
from retrieval.training.phrasebook import Phrasebook


@pytest.fixture(scope="module")
def agent(small_gallery, trained_encoder):
    catalogue, index = small_gallery
    gallery = Gallery.in_memory(trained_encoder, index, catalogue=catalogue)
    return Agent(gallery, "sum", config=AgentConfig(k=10))


def test_phrasebook_format_and_fallback_to_canonical_names(tmp_path):
    book = {
        "templates": {
            "color": ["make it {value}"],
            "pattern": ["with {value}"],
            "category": ["a {value} instead"],
        },
        "values": {"color": {"red": ["crimson"]}},
        "joiners": [" and "],
    }
    (tmp_path / "p.json").write_text(json.dumps(book))
    phrasebook = Phrasebook.load(tmp_path / "p.json")
    rng = np.random.default_rng(0)
    assert phrasebook.say({"color": "red"}, rng) == "make it crimson"
    assert (
        phrasebook.say({"color": "blue", "category": "dress"}, rng)
        == "make it blue and a dress instead"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ('{"templates": {}, "values": {}}', "missing the 'joiners' key"),
        (
            '{"templates": {"color": ["red please"]}, "values": {}, "joiners": [" "]}',
            "needs '{value}'",
        ),
    ],
)
def test_bad_phrasebooks_are_explained(tmp_path, content, message):
    (tmp_path / "p.json").write_text(content)
    with pytest.raises(ValueError, match=message):
        Phrasebook.load(tmp_path / "p.json")


def test_shopper_picks_the_closest_and_names_what_differs(small_gallery):
    catalogue, index = small_gallery
    items = index.items
    target = 10
    shopper = SimulatedShopper(
        target,
        items,
        catalogue.shape_features(),
        Phrasebook.load(DEFAULT_PHRASEBOOK),
        np.random.default_rng(0),
    )
    from agent.state import Result

    want = items[target].attributes
    near = next(
        i
        for i, it in enumerate(items)
        if i != target
        and it.attributes["category"] == want["category"]
        and it.attributes["color"] == want["color"]
    )
    far = next(i for i, it in enumerate(items) if all(it.attributes[a] != want[a] for a in want))
    shown = [Result(id=items[far].id, score=0.9), Result(id=items[near].id, score=0.5)]
    turn = shopper.respond(shown)
    assert turn.select == items[near].id
    assert shopper.differences(items[near].id) == {
        k: v for k, v in want.items() if items[near].attributes[k] != v
    }
    assert turn.text


def test_replay_is_deterministic_and_metrics_are_consistent(agent, small_gallery):
    _, index = small_gallery
    book = Phrasebook.load(DEFAULT_PHRASEBOOK)
    a = replay_model(agent, "sum", 6, 3, book, seed=5)
    b = replay_model(agent, "sum", 6, 3, book, seed=5)
    np.testing.assert_array_equal(a.exact_ranks, b.exact_ranks)
    np.testing.assert_array_equal(a.attribute_ranks, b.attribute_ranks)
    assert a.exact_ranks.shape == (6, 4)
    # an exact hit is also an attribute hit at the same or a better rank
    both = a.exact_ranks >= 0
    assert np.all(a.attribute_ranks[both] <= a.exact_ranks[both])
    summary = summarize(a, len(index))
    hits = summary["exact_hits_at_10_by_turn"]
    assert len(hits) == 4 and hits == sorted(hits)
    assert summary["attribute_hits_at_10_by_turn"][-1] >= hits[-1]
    assert summary["attribute_hits_at_10_by_turn"][-1] >= 0.5  # the shopper does get there
    assert dialogue_plan(len(index), 6, 5) == dialogue_plan(len(index), 6, 5)


def test_reports_are_written(agent, small_gallery, tmp_path):
    _, index = small_gallery
    result = replay_model(agent, "sum", 3, 2, Phrasebook.load(DEFAULT_PHRASEBOOK), seed=1)
    summary = {"models": {"sum": summarize(result, len(index))}}
    paths = write_reports(summary, {"sum": result.exact_ranks}, tmp_path)
    assert {p.name for p in paths} == {
        "replay.json",
        "replay.md",
        "hits_at_10_by_turn.png",
        "turns_to_hit.png",
    }
    assert json.loads((tmp_path / "replay.json").read_text())["models"]["sum"][
        "exact_hits_at_10_by_turn"
    ]
    assert "| sum |" in (tmp_path / "replay.md").read_text()
    assert (tmp_path / "turns_to_hit.png").stat().st_size > 1000


def test_replay_with_an_llm_rewriter_is_reproducible_and_cached(
    small_gallery, trained_encoder, tmp_path
):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from agent.rewriters import LLMRewriter, RuleRewriter

    catalogue, index = small_gallery
    answers = ['{"caption": "red", "constraints": [{"attribute": "color", "value": "red"}]}'] * 50

    def run():
        llm = LLMRewriter(
            FakeListChatModel(responses=answers),
            RuleRewriter(trained_encoder),
            "scripted",
            cache_dir=tmp_path / "llm",
        )
        agent = Agent(
            Gallery.in_memory(trained_encoder, index, catalogue=catalogue), "sum", rewriter=llm
        )
        return replay_model(agent, "sum", 3, 2, Phrasebook.load(DEFAULT_PHRASEBOOK), seed=2)

    first, second = run(), run()
    assert first.llm_calls > 0 and second.llm_calls == 0
    np.testing.assert_array_equal(first.exact_ranks, second.exact_ranks)


def test_replay_runs_on_a_folder_catalogue_with_its_own_schema(tmp_path, tiny_encoder):
    from catalogue_fixtures import write_styles_shop

    from eval.single_turn import EVAL_ROLES
    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.local import build_index

    folder = write_styles_shop(tmp_path)
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    agent = Agent(
        Gallery.in_memory(
            tiny_encoder, build_index(catalogue, tiny_encoder, progress=False), catalogue=catalogue
        ),
        "sum",
        config=AgentConfig(k=5),
    )
    phrasebook = Phrasebook.for_schema(catalogue.schema, EVAL_ROLES)
    assert set(phrasebook.templates) == set(catalogue.schema.categorical)
    assert "navy blue" in phrasebook.values["baseColour"]["Navy Blue"]
    result = replay_model(agent, "sum", 6, 3, phrasebook, seed=0, keep_transcripts=2)
    assert result.exact_ranks.shape == (6, 4) and result.attribute_ranks.shape == (6, 4)
    said = [t["text"] for d in result.transcripts for t in d["turns"][1:]]
    assert said and all(isinstance(s, str) and s for s in said)
    summary = summarize(result, len(agent.index), 5)
    assert len(summary["exact_hits_at_5_by_turn"]) == 4
    # the shopper asks in the catalogue's own words, so the rewriter reads its requests
    assert any(t["caption"] for d in result.transcripts for t in d["turns"][1:])


def test_true_ranks_count_the_allowed_items_above_the_target(agent, small_gallery):
    _, index = small_gallery
    from eval.dialogue_metrics import bri

    phrasebook = Phrasebook.load(DEFAULT_PHRASEBOOK)
    result = replay_model(agent, "sum", 12, 3, phrasebook, seed=4)
    true, shown = result.true_ranks["exact"], result.exact_ranks
    assert true.shape == shown.shape == (12, 4) and (true >= 0).all()
    inside = shown >= 0  # where the target was in the top 50, its true rank is that position
    assert inside.any() and (true[inside] == shown[inside]).all()
    assert (result.true_ranks["attribute"] <= true).all()  # the target has its own attributes
    summary = summarize(result, len(index), 10)
    assert summary["bri"] == summary["exact_bri"] == round(bri(true), 4)
    assert "exact_bri_top50_log2" in summary


@pytest.mark.parametrize(
    "dialogues, turns, says", [(0, 3, "--dialogues"), (-3, 3, "--dialogues"), (2, 0, "--turns")]
)
def test_replay_refuses_empty_plans(agent, small_gallery, dialogues, turns, says):
    phrasebook = Phrasebook.load(DEFAULT_PHRASEBOOK)
    with pytest.raises(ValueError, match=says):
        replay_model(agent, "sum", dialogues, turns, phrasebook, seed=0)
