import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage

from agent.rewriters import HybridRewriter, LLMRewriter, RuleRewriter
from agent.rewriters.hybrid import left_over, merge
from agent.state import Constraint
from retrieval.catalogues.schema import fmnist_schema


class ScriptedChat(FakeListChatModel):
    """Answers from a dict keyed by the words it is asked about; records them."""

    answers: dict = {}
    asked: list = []

    def invoke(self, messages, **kwargs):
        words = messages[-1].content.removeprefix("<feedback>").removesuffix("</feedback>")
        self.asked.append(words)
        if words not in self.answers:
            raise ConnectionError("endpoint down")
        return AIMessage(content=self.answers[words], response_metadata={"finish_reason": "stop"})


def _answer(*constraints) -> str:
    items = [{"value": v, "attribute": a, "polarity": p} for a, v, p in constraints]
    return json.dumps({"constraints": items})


def _hybrid(tmp_path, answers, schema=None, encoder=None):
    rules = RuleRewriter(encoder, schema)
    chat = ScriptedChat(responses=[""], answers=answers, asked=[])
    llm = LLMRewriter(chat, rules, "scripted", timeout_s=5, cache_dir=tmp_path / "c", caption=False)
    return HybridRewriter(rules, llm), chat


def _found(rewrite) -> list[tuple[str, str, str]]:
    return [(c.attribute, c.value, c.polarity) for c in rewrite.constraints]


def test_nothing_unmapped_means_no_llm_call(tmp_path):
    hybrid, chat = _hybrid(tmp_path, {})
    rewrite = hybrid.rewrite("same but in navy, with stripes")
    assert chat.asked == [] and hybrid.calls == 0
    assert _found(rewrite) == [("color", "blue", "require"), ("pattern", "striped", "require")]
    assert rewrite.sources == {"color=blue": "rules", "pattern=striped": "rules"}
    assert rewrite.rewriter == "rules" and rewrite.fallback_reason is None


def test_only_function_words_left_over_means_no_llm_call(tmp_path):
    hybrid, chat = _hybrid(tmp_path, {})
    assert left_over("anything could do got") == ""
    assert left_over("printer paper shade if") == "printer paper shade"
    hybrid.rewrite("anything but green")
    assert chat.asked == []


def test_the_llm_adds_a_value_the_rules_missed(tmp_path):
    hybrid, chat = _hybrid(tmp_path, {"longer sleeves": _answer(("category", "shirt", "require"))})
    rewrite = hybrid.rewrite("make it red with longer sleeves")
    assert chat.asked == ["longer sleeves"]
    assert _found(rewrite) == [("color", "red", "require"), ("category", "shirt", "require")]
    assert rewrite.sources == {"color=red": "rules", "category=shirt": "llm:scripted"}
    assert rewrite.rewriter == "hybrid:scripted"
    assert rewrite.caption == "red, shirt, longer sleeves"
    assert rewrite.unmapped == "longer sleeves"


def test_on_conflict_the_rules_win_and_the_llms_constraint_is_recorded(tmp_path):
    answer = _answer(("color", "blue", "require"), ("color", "red", "avoid"))
    hybrid, _ = _hybrid(tmp_path, {"longer sleeves": answer})
    rewrite = hybrid.rewrite("make it red with longer sleeves")
    assert _found(rewrite) == [("color", "red", "require")]
    assert [(c.value, c.polarity) for c in rewrite.overruled] == [
        ("blue", "require"),
        ("red", "avoid"),
    ]
    assert rewrite.sources == {"color=red": "rules"} and rewrite.rewriter == "rules"


def test_a_value_to_require_where_the_rules_only_avoid_is_added(tmp_path):
    hybrid, _ = _hybrid(tmp_path, {"summery": _answer(("color", "yellow", "require"))})
    rewrite = hybrid.rewrite("not black, more summery")
    assert _found(rewrite) == [("color", "black", "avoid"), ("color", "yellow", "require")]
    assert rewrite.sources["color=yellow"] == "llm:scripted"


def test_llm_failure_leaves_the_rules_reading_with_the_reason(tmp_path):
    hybrid, chat = _hybrid(tmp_path, {})
    rewrite = hybrid.rewrite("make it red with longer sleeves")
    assert chat.asked == ["longer sleeves"]
    assert _found(rewrite) == [("color", "red", "require")]
    assert rewrite.fallback_reason == "LLM call failed: ConnectionError: endpoint down"
    assert rewrite.rewriter == "rules"


def test_answers_are_cached_per_left_over_words(tmp_path):
    answers = {"longer sleeves": _answer(("pattern", "plain", "require"))}
    first, _ = _hybrid(tmp_path, answers)
    first.rewrite("make it red with longer sleeves")
    second, chat = _hybrid(tmp_path, {})
    rewrite = second.rewrite("blue, longer sleeves")
    assert chat.asked == [] and second.calls == 0
    assert _found(rewrite) == [("color", "blue", "require"), ("pattern", "plain", "require")]


def test_nested_attributes_count_as_one_in_a_conflict(tmp_path):
    from catalogue_fixtures import write_styles_shop

    from retrieval.catalogues import FolderCatalogue

    folder = write_styles_shop(tmp_path / "shop")
    schema = FolderCatalogue(folder, folder / "styles.csv").schema
    assert schema.family("articleType") >= {"subCategory", "masterCategory"}
    rules = [Constraint(attribute="articleType", value="Shirts")]
    llm = [
        Constraint(attribute="masterCategory", value="Apparel"),
        Constraint(attribute="baseColour", value="Navy Blue"),
    ]
    merged, added, overruled = merge(schema, rules, llm)
    assert [c.value for c in merged] == ["Shirts", "Navy Blue"]
    assert added == [llm[1]] and overruled == [llm[0]]


def _constraints(triples) -> list[Constraint]:
    return [Constraint(attribute=a, value=v, polarity=p) for a, v, p in triples]


@pytest.mark.parametrize(
    "rules, llm, merged",
    [
        ([("color", "red", "avoid")], [("color", "red", "require")], [("color", "red", "avoid")]),
        (
            [("color", "red", "avoid")],
            [("color", "blue", "avoid")],
            [("color", "red", "avoid"), ("color", "blue", "avoid")],
        ),
        (
            [],
            [("color", "red", "require"), ("color", "blue", "require")],
            [("color", "red", "require")],
        ),
        (
            [("pattern", "dotted", "require")],
            [("color", "grey", "require")],
            [("pattern", "dotted", "require"), ("color", "grey", "require")],
        ),
    ],
)
def test_merge_keeps_the_rules_and_adds_only_what_they_missed(rules, llm, merged):
    out, _, _ = merge(fmnist_schema(), _constraints(rules), _constraints(llm))
    assert [(c.attribute, c.value, c.polarity) for c in out] == merged


class KeywordEncoder:
    """A text encoder stub: one axis per fmnist-color colour; a text points along the axes
    of the colours it names, and 'cement' half along grey's (too little for the rules)."""

    def __init__(self):
        self.axes = fmnist_schema().attributes["color"].values

    def encode_texts(self, texts):
        import numpy as np

        out = np.zeros((len(texts), len(self.axes)), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, colour in enumerate(self.axes):
                out[i, j] = 1.0 if colour in text else 0.5 * (colour == "grey" and "cement" in text)
        return out


def test_a_value_the_llm_adds_needs_the_encoders_backing(tmp_path):
    answers = {
        "wet cement": _answer(("color", "grey", "require")),
        "penciled": _answer(("color", "pink", "require")),
    }
    hybrid, _ = _hybrid(tmp_path, answers, encoder=KeywordEncoder())
    backed = hybrid.rewrite("with dots, like wet cement")
    assert ("color", "grey", "require") in _found(backed)
    assert backed.sources["color=grey"] == "llm:scripted"
    unbacked = hybrid.rewrite("with dots, penciled")
    assert _found(unbacked) == [("pattern", "dotted", "require")]
    assert [(c.value, c.polarity) for c in unbacked.overruled] == [("pink", "require")]
    assert unbacked.rewriter == "rules"


def test_every_rewriter_answers_the_whole_protocol(tmp_path):
    """The agent, the app and the replay read `calls`, `llm_slots` and `warm_up()` of any
    rewriter without probing for them."""
    from agent.rewriters import Rewriter

    hybrid, chat = _hybrid(tmp_path, {"longer sleeves": _answer(("pattern", "plain", "require"))})
    rules, llm = hybrid.rules, hybrid.llm
    assert all(isinstance(r, Rewriter) for r in (rules, llm, hybrid))
    assert (rules.calls, rules.llm_slots) == (0, 0) and rules.warm_up() >= 0.0
    assert (llm.llm_slots, hybrid.llm_slots) == (2, 2)
    hybrid.rewrite("make it red with longer sleeves")
    assert (llm.calls, hybrid.calls) == (1, 1) and chat.asked == ["longer sleeves"]
    assert llm.ask("longer sleeves").cached and llm.calls == 1
