"""What the assistant says after a turn, the same in the app and in the terminal chat."""

from __future__ import annotations

from agent.state import Constraint, DialogueState, TurnRecord
from retrieval.catalogues.schema import CatalogueSchema


def constraint_text(constraints: list[Constraint]) -> str:
    return ", ".join(
        f"{c.attribute}={c.value}" if c.polarity == "require" else f"not {c.attribute}={c.value}"
        for c in constraints
    )


def reply(state: DialogueState, schema: CatalogueSchema | None = None) -> str:
    """The chat answer to the last turn: what was searched, a new search or a refinement,
    the filters and notes."""
    turn: TurnRecord = state.turns[-1]
    if turn.caption:
        lines = [f"Searched for “{turn.caption}” ({len(turn.results)} results)."]
    elif turn.results:
        lines = [f"Showing items like the reference ({len(turn.results)} results)."]
    else:
        lines = []
    if turn.dropped:
        lines.append(f"New search: dropped the earlier filters ({constraint_text(turn.dropped)}).")
    elif len(state.turns) > 1 and turn.constraints and not turn.new_search:
        lines.append("Refined the current search.")
    if state.constraints:
        lines.append(f"Filters: {constraint_text(state.constraints)}.")
    if turn.fallback_reason:
        lines.append(f"The rewriter fell back to the rules: {turn.fallback_reason}.")
    if turn.note:
        lines.append(f"Note: {turn.note}.")
    return "\n".join(lines)


def product_line(result: dict) -> str:
    """'Turtle Check Men Navy Blue Shirt (id 15970; Men, Shirts, Navy Blue)' for the terminal."""
    values = ", ".join(v for v in result["attributes"].values())
    name = result.get("title") or values
    return (
        f"{name}  [{result['id']}; {values}]"
        if result.get("title")
        else f"{name}  [{result['id']}]"
    )
