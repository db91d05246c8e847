"""Rules first, the LLM only for what they could not map (`--rewriter hybrid:<llm>`).

The rule rewriter reads the message; the words it left unmapped (less function words such
as "please", "anything", "could") go to the LLM, alone, as the shopper's words. Nothing
left over: no LLM call at all. The LLM's validated answer is merged with the rules':

- a value the rules also found keeps the rules' polarity (they read negation by rule);
- where the rules require a value of the attribute (or of its nesting family: articleType,
  subCategory, masterCategory), the rules win and the LLM's constraint is recorded as
  overruled;
- anything else is a value the rules missed (an attribute they left open, or only said
  what to avoid in): it is added, if the rules' text encoder backs it (below).

A 135M model names a value for almost any words, mostly by their spelling ("thinner strap"
-> striped, "penciled" -> pink: every one of the ten values SmolLM2 added on the measured
lists was wrong). So where the rules have a text encoder, a value the LLM adds must also be
the encoder's first choice among its attribute's values for the leftover words: two weak
readers that agree. The others are recorded as overruled too.

`rewriter` names the hybrid when the LLM added something, else the rules.

`Rewrite.sources` says which constraint came from where; `fallback_reason` why the LLM's
answer was not used (timeout, busy, rejected, ...), the rules' reading standing alone.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from agent.language.parser import FILLER, KEEPERS, NEGATORS, NON_ATTRIBUTE_WORDS
from agent.language.vocabulary import contexts
from agent.rewriters.base import Rewrite, source_key
from agent.rewriters.llm import LLMRewriter
from agent.rewriters.rules import RuleRewriter
from agent.state import Constraint
from retrieval.catalogues.schema import CatalogueSchema

FUNCTION_WORDS = FILLER | NON_ATTRIBUTE_WORDS | NEGATORS | KEEPERS


def left_over(unmapped: str) -> str:
    """The unmapped words worth asking about: no function words, digits or single letters."""
    words = [
        w
        for w in unmapped.split()
        if w not in FUNCTION_WORDS and not w.isdigit() and len(w.strip("'")) > 1
    ]
    return " ".join(words)


def merge(
    schema: CatalogueSchema, rules: list[Constraint], llm: list[Constraint]
) -> tuple[list[Constraint], list[Constraint], list[Constraint]]:
    """(merged, added, overruled): the rules' constraints with the LLM's it may add."""
    merged, added, overruled = list(rules), [], []
    for c in llm:
        same = [m for m in merged if (m.attribute, m.value) == (c.attribute, c.value)]
        if same:
            if same[0].polarity != c.polarity:
                overruled.append(c)
            continue
        family = schema.family(c.attribute) if c.attribute in schema.attributes else {c.attribute}
        required = [m for m in merged if m.polarity == "require" and m.attribute in family]
        if required:
            overruled.append(c)
            continue
        merged.append(c)
        added.append(c)
    return merged, added, overruled


class EncoderCheck:
    """Whether a text encoder backs a value for some words: the value is its first choice
    among the attribute's values (each value said in its role's contexts, as the rules'
    parser says them). Without an encoder every value is backed."""

    def __init__(self, encoder, schema: CatalogueSchema):
        self.encoder, self.schema = encoder, schema

    @cached_property
    def _anchors(self) -> tuple[list[tuple[str, str]], np.ndarray]:
        labels, texts = [], []
        for attribute in self.schema.categorical:
            for value in self.schema.attributes[attribute].values:
                for context in contexts(self.schema.role(attribute)):
                    labels.append((attribute, value))
                    texts.append(context.format(v=value.lower()))
        return labels, self.encoder.encode_texts(texts)  # (L, D)

    def backs(self, words: str, c: Constraint) -> bool:
        if self.encoder is None:
            return True
        labels, anchors = self._anchors
        texts = list(dict.fromkeys([words, *words.split()]))
        sims = (self.encoder.encode_texts(texts) @ anchors.T).max(axis=0)  # (L,)
        best: dict[str, float] = {}
        for (attribute, value), sim in zip(labels, sims):
            if attribute == c.attribute:
                best[value] = max(best.get(value, -1.0), float(sim))
        return bool(best) and max(best, key=best.get) == c.value


class HybridRewriter:
    """The rule rewriter, completed by an LLM rewriter's model for the words left over."""

    def __init__(self, rules: RuleRewriter, llm: LLMRewriter):
        self.rules, self.llm = rules, llm
        self.name = f"hybrid:{llm.model_key}"
        self.schema = llm.schema
        self.check = EncoderCheck(rules.encoder, self.schema)

    @property
    def calls(self) -> int:
        return self.llm.calls

    @property
    def llm_slots(self) -> int:
        return self.llm.llm_slots

    def warm_up(self) -> float:
        return self.rules.warm_up() + self.llm.warm_up()

    def rewrite(self, text: str) -> Rewrite:
        read = self.rules.rewrite(text)
        sources = {source_key(c): "rules" for c in read.constraints}
        words = left_over(read.unmapped)
        if not words:
            return read.model_copy(update={"sources": sources})
        reply = self.llm.ask(words)
        if reply.answer is None:
            return read.model_copy(update={"sources": sources, "fallback_reason": reply.reason})
        llm = [Constraint(**c.model_dump()) for c in reply.answer.constraints]
        merged, added, overruled = merge(self.schema, read.constraints, llm)
        unbacked = [c for c in added if not self.check.backs(words, c)]
        merged = [c for c in merged if c not in unbacked]
        added = [c for c in added if c not in unbacked]
        overruled += unbacked
        sources |= {source_key(c): self.llm.name for c in added}
        required = [c.value for c in merged if c.polarity == "require" and not c.numeric]
        caption = ", ".join(required + ([read.unmapped] if read.unmapped else []))
        return read.model_copy(
            update={
                "caption": caption,
                "constraints": merged,
                "rewriter": self.name if added else read.rewriter,
                "sources": sources,
                "overruled": overruled,
            }
        )
