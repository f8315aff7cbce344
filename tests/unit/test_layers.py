"""The package's shape: layers without import circles, imports at the top of modules, and provers and checkers
that can be added from outside it."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from provebench.checking import registry as checkers
from provebench.core.model import Problem, Reason, Status, System
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers import registry as provers
from provebench.provers.baseline import BaselineProver
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

PACKAGE = Path(provers.__file__).resolve().parents[1]


def _modules() -> dict[str, ast.Module]:
    """Every module of the package, parsed, by its dotted name."""
    out = {}
    for f in PACKAGE.rglob("*.py"):
        name = ".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(f.read_text())
    return out


def _imports() -> dict[str, set[str]]:
    """Each module's imports of other provebench modules, wherever in the module they are."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for target in [node.module, *(f"{node.module}.{a.name}" for a in node.names)]:
                    if target in modules and target != m:
                        graph[m].add(target)
            elif isinstance(node, ast.Import):
                graph[m] |= {a.name for a in node.names if a.name in modules and a.name != m}
    return graph


def test_no_module_imports_itself_back_through_others() -> None:
    graph = _imports()
    seen: set[str] = set()

    def circle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            here, path = stack.pop()
            for nxt in graph[here]:
                if nxt == start:
                    return path
                if nxt not in path and nxt not in seen:
                    stack.append((nxt, [*path, nxt]))
        return None

    for module in sorted(graph):
        circle = circle_from(module)
        assert circle is None, " -> ".join([*circle, module])
        seen.add(module)


def toy_prover(settings: Mapping[str, Any]) -> BaselineProver:
    return BaselineProver.from_settings(settings)


def toy_checker(_settings: Settings, _problems: Sequence[Problem]) -> Verifier:
    return ScriptedVerifierDouble(lambda _p, _proof, _n: verdict(Status.PASS, Reason.PROVED))


def test_provers_and_checkers_come_from_installed_packages_too(monkeypatch: pytest.MonkeyPatch) -> None:
    prover_ep = EntryPoint(name="toy", value=f"{__name__}:toy_prover", group=provers.ENTRY_POINT_GROUP)
    checker_ep = EntryPoint(name="coq", value=f"{__name__}:toy_checker", group=checkers.ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        provers, "entry_points", lambda group: [prover_ep] if group == provers.ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(
        checkers, "entry_points", lambda group: [checker_ep] if group == checkers.ENTRY_POINT_GROUP else []
    )
    assert isinstance(provers.make_prover("toy", {}), BaselineProver)
    assert "toy" in provers.known_provers()
    assert isinstance(checkers.factory_for("coq")(Settings(), []), ScriptedVerifierDouble)
    with pytest.raises(Exception, match="unknown prover .nope.; known provers: agent, baseline, openai, replay, toy"):
        provers.make_prover("nope", {})
    with pytest.raises(Exception, match="no checker for proof system 'isabelle'"):
        checkers.factory_for("isabelle")
    assert checkers.factory_for(System.HOL_LIGHT.value).__name__ == "make_hol_light_group_verifier"


# The packages, lowest first: each imports only packages before it (core: shared types; cli: the top).
LAYERS = (
    "core",
    "containers",
    "checking",
    "systems",
    "suites",
    "provers",
    "runs",
    "boards",
    "service",
    "integrations",
    "cli",
)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_each_package_imports_only_packages_below_it() -> None:
    climbing = []
    for importer, imported in sorted((m, t) for m, targets in _imports().items() for t in targets):
        here, there = _layer(importer), _layer(imported)
        if here is not None and there is not None and there > here:
            climbing.append(f"{importer} -> {imported}")
    assert climbing == [], "imports against the order " + " < ".join(LAYERS)


# The only imports inside functions: optional or slow dependencies, each for its reason. Everything else,
# provebench's own modules above all, is imported at the top of its module, where a reader (and the layer
# test above) sees it; a command's module is loaded by name from cli/main.py's COMMANDS table instead.
IMPORTED_IN_FUNCTIONS = {
    "ray": "an optional extra (provebench[ray]): checking/ray.py says how to install it when --executor ray asks",
    "matplotlib": "a second to import, for pages with charts only; its headless backend is chosen before pyplot",
}


def _imports_in_functions(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import inside a function body of ``tree``, relative ones as provebench's."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                found.append((node.lineno, "provebench" if node.level else node.module or ""))
    return found


def test_no_function_imports_a_module_but_an_optional_dependency() -> None:
    inside = [
        f"{module}:{line} imports {imported}"
        for module, tree in sorted(_modules().items())
        for line, imported in sorted(set(_imports_in_functions(tree)))
        if imported.split(".")[0] not in IMPORTED_IN_FUNCTIONS
    ]
    assert not inside, "imports inside functions (move each to the top of its module): " + "; ".join(inside)


def test_the_package_holds_packages_only() -> None:
    loose = sorted(f.name for f in PACKAGE.glob("*.py") if f.name != "__init__.py")
    assert loose == [], f"modules loose at the top of provebench/: {loose}"
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()) == sorted(LAYERS)


def test_no_module_is_over_400_lines() -> None:
    """Small modules: one over 400 lines is split by what its parts are about, not grown."""
    harness = PACKAGE.parent / "harness"
    sources = [*PACKAGE.rglob("*.py"), *harness.rglob("*.py"), *harness.rglob("*.ml")]
    assert len(sources) > 50
    long = {str(f.relative_to(PACKAGE.parent)): n for f in sources if (n := len(f.read_text().splitlines())) > 400}
    assert long == {}
