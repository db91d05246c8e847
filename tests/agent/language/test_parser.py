import pytest

from agent.language.parser import NON_ATTRIBUTE_WORDS, AttributeParser


@pytest.fixture(scope="module")
def parser(trained_encoder):
    return AttributeParser(trained_encoder)


def test_skipped_words_are_ones_the_encoder_check_rejects(parser):
    """Skipping NON_ATTRIBUTE_WORDS only saves time: the encoder would find no value in them."""
    found = {w: s for w in sorted(NON_ATTRIBUTE_WORDS) if (s := _encoder_decision(parser, w))}
    assert found == {}, found
    assert _encoder_decision(parser, "jeans") != []  # the check itself still finds values


def _encoder_decision(parser, word: str):
    import agent.language.parser as attributes

    skip = attributes.NON_ATTRIBUTE_WORDS
    attributes.NON_ATTRIBUTE_WORDS = frozenset()
    try:
        return parser._encoder_spans([word], set())
    finally:
        attributes.NON_ATTRIBUTE_WORDS = skip


def test_a_turn_with_filler_words_encodes_no_span(parser, trained_encoder, monkeypatch):
    calls = []
    monkeypatch.setattr(trained_encoder, "encode_texts", lambda texts: calls.append(texts))
    mentions = parser.parse("could it be blue, that would be nicer")
    assert [(m.attribute, m.value) for m in mentions] == [("color", "blue")]
    assert calls == []
