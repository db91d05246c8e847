"""The agent's initiative: suggestion chips from the candidates, questions for ambiguous
words, a chip's click as an undoable turn."""

import numpy as np
import pytest
from catalogue_fixtures import write_styles_shop

from agent.agent import Agent, Turn, TurnError
from agent.initiative import hold_back_ambiguous, spread, suggest
from agent.language.parser import AttributeParser
from agent.rewriters import Ambiguity, Rewrite, RuleRewriter
from agent.state import Constraint
from retrieval.catalogues import FolderCatalogue
from retrieval.catalogues.schema import AttributeSpec, CatalogueSchema, fmnist_schema
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index


def schema() -> CatalogueSchema:
    spec = {
        "gender": ["Men", "Women", "Unisex"],
        "usage": ["Casual", "Formal", "Sports"],
        "colour": ["Black", "White", "Red", "Blue"],
    }
    roles = {"gender": "gender", "usage": "occasion", "colour": "color"}
    return CatalogueSchema(
        attributes={n: AttributeSpec(values=v, role=roles[n]) for n, v in spec.items()}
    )


def candidates(n: int, **columns) -> list[dict[str, str]]:
    """n items whose attribute `name` cycles through the given values."""
    return [{name: values[i % len(values)] for name, values in columns.items()} for i in range(n)]


def test_the_attribute_that_splits_the_candidates_evenly_is_suggested():
    items = candidates(50, gender=["Men"], usage=["Casual", "Formal", "Sports"], colour=["Black"])
    offer = suggest(schema(), items, np.zeros(50, np.float32), [])
    assert offer.kind == "suggestion" and offer.attribute == "usage"
    assert [c.value for c in offer.chips] == ["Casual", "Formal", "Sports"]
    assert all(c.attribute == "usage" for c in offer.chips)
    assert sum(c.share for c in offer.chips) == pytest.approx(1.0, abs=0.01)


def test_an_attribute_all_candidates_agree_on_is_never_suggested():
    items = candidates(40, gender=["Women"], usage=["Casual"], colour=["Black", "White"])
    offer = suggest(schema(), items, np.zeros(40, np.float32), [])
    assert offer.attribute == "colour" and {c.attribute for c in offer.chips} == {"colour"}
    assert [c.value for c in offer.chips] == ["Black", "White"]
    settled = candidates(40, gender=["Women"], usage=["Casual"], colour=["Black"])
    assert suggest(schema(), settled, np.zeros(40, np.float32), []) is None


def test_a_chip_row_never_mixes_attributes_even_where_values_share_a_name():
    """Two values of the best attribute are a row of two, not padded with another attribute's
    ("Casual Shoes, Formal Shoes or Casual?" mixed an article type with a usage)."""
    shoes = CatalogueSchema(
        attributes={
            "articleType": AttributeSpec(values=["Casual Shoes", "Formal Shoes"], role="category"),
            "usage": AttributeSpec(values=["Casual", "Formal", "Sports"], role="occasion"),
        }
    )
    items = candidates(
        60, articleType=["Casual Shoes", "Formal Shoes"], usage=["Casual"] * 4 + ["Sports"]
    )
    offer = suggest(shoes, items, np.zeros(60, np.float32), [])
    assert offer.attribute == "articleType"
    assert [(c.attribute, c.value) for c in offer.chips] == [
        ("articleType", "Casual Shoes"),
        ("articleType", "Formal Shoes"),
    ]


def test_a_required_attribute_is_not_suggested_again():
    items = candidates(30, gender=["Men", "Women"], usage=["Casual", "Formal", "Sports"])
    required = [Constraint(attribute="usage", value="Casual")]
    offer = suggest(schema(), items, np.zeros(30, np.float32), required)
    assert offer.attribute == "gender"


def test_spread_weighs_the_top_ranked_candidates_more():
    items = candidates(4, gender=["Men", "Women"])
    shares = spread(items, np.array([0.9, 0.5, 0.9, 0.5], np.float32), "gender")
    assert list(shares) == ["Men", "Women"] and shares["Men"] > 0.99


def test_an_ambiguous_word_is_held_back_and_asked_about():
    shoes = [Constraint(attribute="articleType", value=v) for v in ("Casual Shoes", "Sports Shoes")]
    rewrite = Rewrite(
        caption="sneakers, Men",
        constraints=[shoes[0], Constraint(attribute="gender", value="Men")],
        ambiguities=[Ambiguity(word="sneakers", options=shoes)],
    )
    applied, held, question = hold_back_ambiguous(rewrite, [])
    assert applied.constraints == [Constraint(attribute="gender", value="Men")]
    assert held == [shoes[0]] and question.kind == "question" and question.word == "sneakers"
    assert [c.value for c in question.chips] == ["Casual Shoes", "Sports Shoes"]
    # the shopper already ruled one out: the other is the reading, nothing to ask
    avoided = [Constraint(attribute="articleType", value="Casual Shoes", polarity="avoid")]
    applied, held, question = hold_back_ambiguous(rewrite, avoided)
    assert shoes[1] in applied.constraints and held == [] and question is None
    # one of them is already required: that one
    applied, held, question = hold_back_ambiguous(rewrite, [shoes[1]])
    assert shoes[1] in applied.constraints and shoes[0] not in applied.constraints
    assert question is None


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = write_styles_shop(tmp_path_factory.mktemp("styles"))
    return FolderCatalogue(folder, folder / "styles.csv")


def test_the_rules_find_words_that_fit_two_values_of_the_catalogue(shop):
    rules = RuleRewriter(None, shop.schema)
    rewrite = rules.rewrite("sneakers for men")
    assert [(a.word, [o.value for o in a.options]) for a in rewrite.ambiguities] == [
        ("sneakers", ["Casual Shoes", "Sports Shoes"])
    ]
    assert rewrite.caption == "sneakers, Men"  # said as the shopper said it, not as a guess
    assert rules.rewrite("casual shoes for men").ambiguities == []
    # fmnist-color has a sneaker of its own: nothing to ask
    assert RuleRewriter(None, fmnist_schema()).rewrite("sneakers").ambiguities == []


class NearTies:
    """A text encoder where 'zoomers' is as close to two values: a near tie."""

    def encode_texts(self, texts):
        def vector(text):
            if "casual" in text:
                return [1.0, 0.0, 0.0]
            if "sports" in text:
                return [0.0, 1.0, 0.0]
            if text == "zoomers":
                return [0.7, 0.7, 0.0]
            return [0.0, 0.0, 1.0]

        out = np.array([vector(t.lower()) for t in texts], np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_an_encoder_near_tie_is_an_ambiguity_not_a_constraint():
    shoes = CatalogueSchema(
        kind="articleType",
        attributes={
            "articleType": AttributeSpec(values=["Casual Shoes", "Sports Shoes"], role="garment")
        },
    )
    mentions = AttributeParser(NearTies(), shoes).parse("zoomers")
    assert [(m.how, m.options) for m in mentions] == [
        ("tie", (("articleType", "Casual Shoes"), ("articleType", "Sports Shoes")))
    ]
    rewrite = RuleRewriter(NearTies(), shoes).rewrite("zoomers")
    assert rewrite.constraints == [] and rewrite.caption == "zoomers"
    assert [o.value for o in rewrite.ambiguities[0].options] == ["Casual Shoes", "Sports Shoes"]


@pytest.fixture(scope="module")
def shop_agent(shop, tiny_encoder):
    index = build_index(shop, tiny_encoder, progress=False)
    return Agent(Gallery.in_memory(tiny_encoder, index, shop.schema), "sum")


def test_the_agent_asks_instead_of_guessing_and_a_chip_answers(shop_agent):
    state, results = shop_agent.step(shop_agent.new_state(), Turn(text="sneakers for men"))
    turn = state.turns[-1]
    assert results, "it still shows its best results"
    assert turn.offer.kind == "question" and turn.held_back[0].value == "Casual Shoes"
    assert ("articleType", "Casual Shoes") not in {
        (c.attribute, c.value) for c in state.constraints
    }
    chip = next(c for c in turn.offer.chips if c.value == "Sports Shoes")
    answered, results = shop_agent.step(state, Turn(choose=chip.constraint()))
    assert answered.turns[-1].action == "choose"
    assert results and all(r.attributes["articleType"] == "Sports Shoes" for r in results)
    assert answered.turns[-1].matching == sum(
        i.attributes["articleType"] == "Sports Shoes" and i.attributes["gender"] == "Men"
        for i in shop_agent.index.items
    )
    assert answered.undo().constraints == state.constraints  # a click undoes like any turn


def test_suggestions_follow_a_search_and_a_click_narrows_it(shop_agent):
    state, before = shop_agent.step(shop_agent.new_state(), Turn(text="something casual"))
    offer = state.turns[-1].offer
    assert offer is not None and 3 <= len(offer.chips) <= 6
    assert "usage" not in {c.attribute for c in offer.chips}  # already asked for
    chip = offer.chips[0]
    narrowed, results = shop_agent.step(state, Turn(choose=chip.constraint()))
    assert results and all(r.attributes[chip.attribute] == chip.value for r in results)
    assert narrowed.turns[-1].matching < state.turns[-1].matching
    # the request's words are kept, with the chip's value added
    assert narrowed.turns[-1].caption == f"{state.turns[-1].caption}, {chip.value}"
    again = narrowed.turns[-1].offer.chips[0] if narrowed.turns[-1].offer else None
    if again is not None:
        twice, _ = shop_agent.step(narrowed, Turn(choose=again.constraint()))
        assert twice.turns[-1].caption == f"{narrowed.turns[-1].caption}, {again.value}"


def test_words_and_a_chip_make_one_turn(shop_agent):
    state, _ = shop_agent.step(shop_agent.new_state(), Turn(text="something casual"))
    men = Constraint(attribute="gender", value="Men")
    both, results = shop_agent.step(state, Turn(text="in black", choose=men))
    assert {("gender", "Men"), ("baseColour", "Black")} <= {
        (c.attribute, c.value) for c in both.constraints
    }
    assert results and all(
        r.attributes["gender"] == "Men" and r.attributes["baseColour"] == "Black" for r in results
    )
    assert both.turns[-1].caption == "Black, Men"


def test_a_chip_naming_no_value_of_the_catalogue_is_refused(shop_agent):
    state, _ = shop_agent.step(shop_agent.new_state(), Turn(text="a shirt"))
    bad = Constraint(attribute="articleType", value="Spacesuits")
    with pytest.raises(TurnError, match="'Spacesuits' is no article type of this"):
        shop_agent.step(state, Turn(choose=bad))
    with pytest.raises(TurnError, match="nothing to search for"):
        shop_agent.step(shop_agent.new_state(), Turn(refilter=True))


def test_a_chip_or_filter_on_a_new_dialogue_searches_for_its_value(shop_agent):
    men = Constraint(attribute="gender", value="Men")
    state, results = shop_agent.step(shop_agent.new_state(), Turn(choose=men))
    assert results and all(r.attributes["gender"] == "Men" for r in results)
    assert state.turns[-1].caption == "Men" and state.constraints == [men]


@pytest.mark.parametrize(
    "text, caption",
    [
        ("hmm, not so dark", "light"),
        ("no long sleeves", "short sleeves"),
        ("I'm looking for a summer dress", "dress, summer"),
    ],
)
def test_negated_words_the_rules_cannot_map_are_said_plainly(text, caption):
    assert RuleRewriter().rewrite(text).caption == caption


def test_a_clicked_value_filters_even_where_words_only_steer(shop, tiny_encoder):
    """With hard_constraints off, values read from words are soft; a chip is the shopper's
    own choice and filters."""
    from agent.agent import AgentConfig

    index = build_index(shop, tiny_encoder, progress=False)
    config = AgentConfig(hard_constraints=False)
    soft = Agent(Gallery.in_memory(tiny_encoder, index, shop.schema), "sum", config=config)
    state, said = soft.step(soft.new_state(), Turn(text="something for men"))
    assert {r.attributes["gender"] for r in said} != {"Men"}  # words steer, do not filter
    women = Constraint(attribute="gender", value="Women", polarity="require", clicked=True)
    state, clicked = soft.step(state, Turn(choose=women))
    assert clicked and all(r.attributes["gender"] == "Women" for r in clicked)


def test_chips_show_only_short_shopper_facing_values_and_each_value_of_a_cell():
    """No markup, paths, k=v lists or placeholders on a chip; 'Red|Blue' offers both."""
    shop = CatalogueSchema(
        attributes={
            "colour": AttributeSpec(values=["Red", "Blue", "Other"], role="color"),
            "category": AttributeSpec(
                values=["Default Category/Men/Tops", "Default Category/Women"]
            ),
        }
    )
    items = candidates(
        40,
        colour=["Red|Blue", "Other", "Blue"],
        category=["Default Category/Men/Tops", "Default Category/Women"],
    )
    offer = suggest(shop, items, np.zeros(40, np.float32), [])
    assert offer.attribute == "colour"
    assert [c.value for c in offer.chips] == ["Blue", "Red"]
    assert spread(items, np.zeros(40, np.float32), "colour")["Blue"] == pytest.approx(0.5, abs=0.02)
