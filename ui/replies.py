"""What the assistant says after a turn, the same in the app and in the terminal chat: plain
sentences (what was searched, how many items match, what was kept or dropped, the question or
the suggestions), never the agent's own notation; the details panel keeps that."""

from __future__ import annotations

from agent.constraints import numeric
from agent.language.limits import filter_intro, limit_sentence
from agent.language.prices import price_attribute
from agent.state import Constraint, DialogueState, Offer, TurnRecord
from retrieval.catalogues.schema import CatalogueSchema

FOR_ROLES = ("gender",)  # said after the kind: "shirts for men"
RELATIVE_WORDS = {"cheap": "cheap", "expensive": "pricey"}


def constraint_text(constraints: list[Constraint]) -> str:
    """The exact constraints, for the details panel: 'color=red, not pattern=striped'."""
    return ", ".join(
        f"{c.attribute}={c.value}" if c.polarity == "require" else f"not {c.attribute}={c.value}"
        for c in constraints
    )


def _words(values: list[str]) -> str:
    values = [v for v in values if v]
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} and {values[-1]}"


def _alternatives(values: list[str]) -> str:
    return " or ".join([", ".join(values[:-1]), values[-1]]) if len(values) > 1 else values[0]


def request_words(schema: CatalogueSchema | None, constraints: list[Constraint]) -> str:
    """'navy blue formal shirts for men under 30, not black, cheapest first': the
    requirements in words."""
    priced = [c for c in constraints if numeric(c, schema)]
    constraints = [c for c in constraints if c not in priced]
    bounds = [_price_words(c) for c in priced if not c.ordering]
    orders = [c.value for c in priced if c.ordering]
    required = [c for c in constraints if c.polarity == "require"]
    kind = schema.kind if schema else None
    role = schema.role if schema else (lambda name: None)
    family = schema.family(kind) if (schema and kind) else set()
    kinds = [c.value for c in required if c.attribute in family]
    after = [c.value for c in required if role(c.attribute) in FOR_ROLES]
    before = [c.value for c in required if c.value not in kinds and c.value not in after]
    items = "items" if required or bounds else ""
    words = " ".join([*before, kinds[-1] if kinds else items]).strip()
    words = words.lower()
    if after:
        words += f" for {_words(after).lower()}"
    words = " ".join([words, *bounds[-1:]])
    avoided = [c.value.lower() for c in constraints if c.polarity == "avoid"]
    if avoided:
        words += (
            f", not {_alternatives(avoided)}" if words else f"anything but {_alternatives(avoided)}"
        )
    if orders:
        words += f", {orders[-1]}" if words else orders[-1]
    return words


def _price_words(c: Constraint) -> str:
    """'under 30'; a relative bound with the word said: 'under 24.5 (cheap)'."""
    if c.relative and c.value != c.relative:
        return f"{c.value} ({RELATIVE_WORDS[c.relative]})"
    return c.value


def filterable(schema: CatalogueSchema) -> list[str]:
    """The attributes a shopper can filter by, as a reply names them: the kind first."""
    broader = schema.ancestors_of_kind()
    names = [n for n in schema.categorical if n not in broader]
    if schema.kind in names:
        names.remove(schema.kind)
        names.insert(0, schema.kind)
    price = price_attribute(schema)
    return [schema.label(n).lower() for n in [*names, *([price] if price else [])]]


def limits_text(turn: TurnRecord, schema: CatalogueSchema | None) -> tuple[str, str]:
    """(what the catalogue cannot answer, what it can filter by) for a turn that asked it."""
    if not turn.limits:
        return "", ""
    said = " ".join(f"{limit_sentence(topic)}." for topic in turn.limits)
    names = filterable(schema) if schema else []
    return said, (f"{filter_intro()} {_alternatives(names)}." if names else "")


def _count(n: int | None) -> str:
    if n is None:
        return ""
    return "no item matches" if n == 0 else ("1 item matches" if n == 1 else f"{n:,} items match")


def _what_was_searched(state: DialogueState, turn: TurnRecord, schema) -> str:
    asked = request_words(schema, state.constraints)
    extra = [
        w for w in turn.caption.split(", ") if w and w not in {c.value for c in state.constraints}
    ]
    if turn.action == "other_colours":
        return f"Here is the same style in other colours: {turn.caption.removeprefix('other colours of ')}"
    if turn.action == "choose":
        return f"Narrowed to {asked or turn.constraints[0].value.lower()}"
    if turn.action == "none_of_these":
        return (
            f"Here are others{f' among {asked}' if asked else ''}, away from the ones you passed on"
        )
    if turn.action in ("select", "item", "upload") and not turn.caption:
        like = "your photo" if turn.action == "upload" else "your pick"
        return f"Here are items like {like}" + (f", {asked}" if asked else "")
    said = ", ".join(extra)
    start = "Showing" if not turn.new_search else "Searching for"
    if asked and said:
        return f"{start} {asked}, “{said}”"
    if asked:
        return f"{start} {asked}"
    return f"{start} “{said or turn.user_text}”"


def _kept_or_dropped(state: DialogueState, turn: TurnRecord) -> str:
    if turn.new_search and len(state.turns) > 1 and turn.action == "upload":
        let_go = _words([c.value for c in turn.dropped])
        return f"A new search from your photo: I let go of {let_go} from before." if let_go else ""
    if turn.new_search and turn.action == "select" and turn.reference_id is None:
        return (
            f"A new search: I let go of {_words([*(c.value for c in turn.dropped), 'your pick'])}."
        )
    if turn.dropped:
        return f"A new search: I let go of {_words([c.value for c in turn.dropped])}."
    if len(state.turns) < 2 or turn.new_search or turn.action == "choose":
        return ""
    added = {_said_key(c) for c in turn.constraints}
    kept = [c.value for c in state.constraints if _said_key(c) not in added]
    return f"I kept {_words(kept)} from before." if kept else ""


def _said_key(c: Constraint) -> tuple[str, str]:
    """What a turn said of a constraint: its value, or for a price which kind of bound (a
    relative one becomes numbers after the turn was read)."""
    return (
        (c.attribute, "order" if c.ordering else "bound") if c.numeric else (c.attribute, c.value)
    )


def offer_text(offer: Offer | None, schema: CatalogueSchema | None) -> str:
    if offer is None:
        return ""
    values = [c.value for c in offer.chips]
    if offer.kind == "question" and offer.word:
        return f"By “{offer.word}”, do you mean {_alternatives(values)}?"
    if offer.kind == "question":
        return f"What kind of item are you looking for: {_alternatives(values)}?"
    label = (schema.label(offer.attribute) if schema else offer.attribute).lower()
    return f"Narrow it down by {label}: {_alternatives(values)}?"


def _note(note: str) -> str:
    note = note.strip()
    return f"{note[0].upper()}{note[1:]}." if note else ""


def _searched_as_text(words: list[str], missing: list[str] = ()) -> str:
    """'I also looked for “nike” in the product names and descriptions.', and which of the
    words no item that meets the filters has ('..., but no such item names “nike”.')."""
    if not words:
        return ""
    quoted = _words([f"“{w}”" for w in words])
    said = f"I also looked for {quoted} in the product names and descriptions"
    if missing:
        return f"{said}, but no such item names {_alternatives([f'“{w}”' for w in missing])}."
    return f"{said}."


def reply(state: DialogueState, schema: CatalogueSchema | None = None) -> str:
    """The chat answer to the last turn, in plain sentences."""
    turn: TurnRecord = state.turns[-1]
    cannot, can = limits_text(turn, schema)
    if cannot and not turn.results:
        return f"{cannot} {can} Tell me what you are looking for."
    if turn.action == "other_colours":
        said = _what_was_searched(state, turn, schema)
        if not turn.results:
            return f"{_note(turn.note)} Try another item."
        return f"{said}. {_note(turn.note)}".strip()
    if not turn.results and not turn.caption and not state.constraints:
        return _note(turn.note) or "Started over: tell me what you are looking for."
    count = _count(turn.matching) if state.constraints else ""
    first = _what_was_searched(state, turn, schema)
    lines = [f"{first}: {count}." if count else f"{first}."]
    if turn.held_back:
        lines[0] = lines[0].rstrip(".") + "; here are the closest of them."
    lines = [cannot, *lines, can]
    lines += [
        _kept_or_dropped(state, turn),
        _searched_as_text(turn.text_words, turn.text_missing),
        _note(turn.note),
        "The language model could not help here, so I read your words myself."
        if turn.fallback_reason
        else "",
        offer_text(turn.offer, schema),
    ]
    return " ".join(line for line in lines if line)


def why_matched(values: list[str]) -> str:
    """'matches navy blue and formal': the requested values a result has, in words."""
    values = [v.lower() for v in values]
    return f"matches {_words(values)}" if values else ""


def product_line(result: dict) -> str:
    """'Turtle Check Men Navy Blue Shirt  [15970; Men, Shirts, Navy Blue]' for the terminal."""
    values = ", ".join(v for v in result["attributes"].values())
    name = result.get("title") or values
    return (
        f"{name}  [{result['id']}; {values}]"
        if result.get("title")
        else f"{name}  [{result['id']}]"
    )
