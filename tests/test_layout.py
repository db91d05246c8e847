"""The house: imports run one way (ui -> eval -> agent -> retrieval), with no cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("retrieval", "agent", "eval", "ui")  # lowest layer first
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """Project modules that `path` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out |= {n for n in names if n in known}
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges = {name: imports(path, known) - {name} for name, path in found.items()}
    # a package's __init__ that only re-exports its own modules is not a dependency of them
    return {
        name: {t for t in targets if not (name.startswith(t + ".") and t in found)}
        for name, targets in edges.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_among_the_projects_modules():
    assert cycles(graph()) == []


def test_imports_run_from_ui_to_eval_to_agent_to_retrieval():
    layer = {p: i for i, p in enumerate(PACKAGES)}
    upward = [
        (source, target)
        for source, targets in graph().items()
        for target in targets
        if layer[target.split(".")[0]] > layer[source.split(".")[0]]
    ]
    assert upward == []


def test_modules_stay_under_400_lines():
    long = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    assert {n: lines for n, lines in long.items() if lines > MAX_MODULE_LINES} == {}


def long_functions(source: str) -> dict[str, int]:
    """{name: lines} of the functions and methods of a module longer than the limit."""
    out = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                out[node.name] = lines
    return out


def test_functions_stay_under_60_lines():
    found = {
        f"{name}.{function}": lines
        for name, path in modules().items()
        for function, lines in long_functions(path.read_text()).items()
    }
    assert found == {}


def test_the_function_length_check_counts_a_long_function():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def short():\n    pass\n\ndef long():\n{body}") == {"long": 61}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.slow
def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(n for n in modules() if not n.endswith("__main__"))
    code = "import importlib, sys\nfor n in sys.argv[1:]: importlib.import_module(n)"
    done = subprocess.run(
        [sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


CATALOGUE_HOME = "retrieval.catalogues"  # the one package that reads catalogue names
CATALOGUE_WORDS = ("fmnist", "folder:")  # how a catalogue's name or spec starts
STRING_TESTS = {"startswith", "endswith", "removeprefix", "partition", "split", "rsplit"}


def catalogue_parsing(source: str) -> list[str]:
    """Where code reads a catalogue name apart: a 'folder:' literal anywhere, or a string test
    or cut (startswith, removeprefix, split, ...) on a catalogue word."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and str(node.value).startswith("folder:"):
            found.append(f"line {node.lineno}: {node.value!r}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in STRING_TESTS
        ):
            words = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if any(isinstance(w, str) and w.startswith(CATALOGUE_WORDS) for w in words):
                found.append(f"line {node.lineno}: .{node.func.attr}({words[0]!r})")
    return found


def test_catalogue_names_are_read_only_in_retrieval_catalogues():
    sources = {n: p for n, p in modules().items() if not n.startswith(CATALOGUE_HOME)}
    sources["app"] = ROOT / "app.py"
    parsing = {n: catalogue_parsing(p.read_text()) for n, p in sources.items()}
    assert {n: where for n, where in parsing.items() if where} == {}


def test_the_catalogue_parsing_check_finds_what_the_code_did_before():
    before = (
        'if name.startswith("folder:"):\n'
        '    name = Path(name.removeprefix("folder:").split("|")[0]).name\n'
        'own = not args.catalogue.startswith("fmnist-color")\n'
    )
    assert len(catalogue_parsing(before)) == 5
    assert catalogue_parsing('catalogue = "fmnist-color"\nname.startswith("photo:")\n') == []
    catalogues = modules()[f"{CATALOGUE_HOME}.ref"].read_text()
    assert catalogue_parsing(catalogues)  # the ref itself reads them: the check can see it
