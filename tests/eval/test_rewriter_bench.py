import argparse
import json

from agent.rewriters import Rewrite
from agent.state import Constraint
from eval.rewriter_bench import RequestList, evaluate, load_lists, markdown, score
from retrieval.catalogues.schema import fmnist_schema


class Scripted:
    """A rewriter that answers from a dict of text -> (constraints, sources)."""

    name = "scripted"
    llm_slots = 0

    def __init__(self, answers):
        self.answers = answers

    def rewrite(self, text: str) -> Rewrite:
        triples, sources = self.answers[text]
        constraints = [Constraint(attribute=a, value=v, polarity=p) for a, v, p in triples]
        return Rewrite(caption=text, constraints=constraints, sources=sources)


RED, NAVY = ("color", "red", "require"), ("color", "navy", "require")
DOTS = ("pattern", "dotted", "require")


def test_score_counts_accuracy_exact_invalid_and_what_the_llm_added():
    requests = RequestList(
        "t", fmnist_schema(), [("a", {RED}), ("b", {RED}), ("c", {DOTS}), ("d", {DOTS})], False
    )
    rewriter = Scripted(
        {
            "a": ([RED], {}),
            "b": ([RED, DOTS], {"pattern=dotted": "llm:m"}),
            "c": ([NAVY], {"color=navy": "llm:m"}),  # not a value of fmnist-color
            "d": ([], {}),
        }
    )
    figures = score(rewriter, requests)
    assert (figures["accuracy"], figures["exact"]) == (0.5, 0.25)
    assert figures["invalid"] == 1 and figures["llm_added"] == 2
    assert figures["misses"] == [["c", [DOTS], [NAVY]], ["d", [DOTS], []]]


def test_score_of_a_request_list_needs_the_exact_set():
    requests = RequestList("t", fmnist_schema(), [("a", {RED}), ("b", {RED, DOTS})], True)
    figures = score(Scripted({"a": ([RED, DOTS], {}), "b": ([DOTS, RED], {})}), requests)
    assert figures["accuracy"] == 0.5 and figures["exact"] == 0.5


def test_the_rules_on_every_list_found(trained_encoder):
    lists, skipped = load_lists()
    names = [r.name for r in lists]
    assert "heldout" in names and len(names) + len(skipped) == 3
    report = evaluate(["rules"], trained_encoder, lists, limit=8)
    for name in names:
        rules = report[name]["rules"]
        assert rules["n"] == 8 and rules["invalid"] == 0 and rules["llm_calls"] == 0
        assert rules["second_pass_calls"] == 0 and 0 <= rules["accuracy"] <= 1
    table = markdown(report)
    assert table.count("\n") == 1 + len(names) and "| heldout (8) | rules |" in table


def test_the_cli_verb_registers_under_eval(capsys, trained_encoder):
    from ui.cli.rewriter_verbs import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="action"))
    args = parser.parse_args(["rewriters", "--rewriters", "rules", "--limit", "3", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lists"]["heldout"]["rules"]["n"] == 3


def test_the_lists_ship_in_the_package_not_in_tests(tmp_path):
    """An installed circhat has no tests/: the lists are read from the package (eval/lists)."""
    from importlib.resources import files

    import eval.rewriter_bench as bench

    shipped = files("eval.lists")
    for name in ("heldout_phrasings.py", "request_lists.py", "fashion_iq_labels.py"):
        assert shipped.joinpath(name).is_file()
    assert not hasattr(bench, "TESTS")
    lists, skipped = load_lists(products=tmp_path)  # no fashion-products data here
    heldout = next(r for r in lists if r.name == "heldout")
    assert len(heldout.items) == 48
    assert any(line.startswith("fashion-products:") for line in skipped)
