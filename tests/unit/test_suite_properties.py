"""Suites fed generated folders: a suite loads, or loading is one line of ``UserError``; nothing else.

And whatever paths a suite names (its problems file, its templates' includes, through symlinks or not),
nothing outside its folder is read. Real files: each example gets its own temporary folder.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provebench.core.errors import UserError
from provebench.suites.load import Suite, load_suite
from provebench.systems.hol_light.template_text import TemplateText

MANIFEST = {"name": "t", "system": "hol-light", "version": "1", "checker_image": "hol-light"}
SECRET = "let host_secret = 42;;\n"
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORDS = st.sampled_from(
    ["hol-light", "lean4", "t", "T", "a", "theorem", "problems.yaml", "p.jsonl", "t.ml", "../x", "/etc/passwd", ""]
)
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
) | _WORDS
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_MANIFEST_KEYS = st.sampled_from(
    [
        *("name", "system", "version", "description", "checker_image", "default_timeout_s", "context"),
        *("problems_file", "metadata", "template_includes", "memory_mb", "context_memory_mb", "timeout_scale"),
        *("benchmark_layout", "checker", "junk"),
    ]
)
_PROBLEM_KEYS = st.sampled_from(
    [
        *("id", "statement", "kind", "category", "timeout_s", "informal", "reference_proof", "template"),
        *("template_line", "junk"),
    ]
)
_PROBLEM = st.fixed_dictionaries({"id": _WORDS, "statement": _WORDS}) | st.dictionaries(_PROBLEM_KEYS, _VALUES)
_PROBLEMS = st.lists(st.dictionaries(_PROBLEM_KEYS, _VALUES, max_size=6) | _PROBLEM | _VALUES, max_size=4)


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


# A file's text: valid YAML of plausible fields, or anything at all (bytes that may not even be UTF-8).
_MANIFEST = st.dictionaries(_MANIFEST_KEYS, _VALUES, max_size=4).map(lambda extra: MANIFEST | extra)
_JUNK = st.text(max_size=40) | st.binary(max_size=40)
_PROBLEMS_TEXT = _PROBLEMS.map(_dump) | st.text(max_size=40) | st.binary(max_size=40)
_JSONL_TEXT = _PROBLEMS.map(lambda rows: "".join(json.dumps(row) + "\n" for row in rows)) | st.text(max_size=40)


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def _loads_or_one_line(folder: Path) -> Suite | None:
    """The suite, or None after checking that loading failed in one line of ``UserError``."""
    try:
        return load_suite(folder)
    except UserError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


@contextmanager
def _outside() -> Iterator[tuple[Path, Path]]:
    """A fresh root with a host folder ``outside/`` (a problems file, an OCaml file) and a suite folder ``s/``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root / "outside" / "secret.yaml", "- {id: stolen, statement: T}\n")
        _write(root / "outside" / "secret.ml", SECRET)
        folder = root / "s"
        _write(folder / "problems.yaml", "- {id: a, statement: T}\n")
        _write(folder / "sub" / "inner.yaml", "- {id: inner, statement: T}\n")
        (folder / "out.yaml").symlink_to(root / "outside" / "secret.yaml")
        (folder / "in.yaml").symlink_to("problems.yaml")
        (folder / "outdir").symlink_to(root / "outside", target_is_directory=True)
        yield root, folder


# Paths that climb (or start at the root, absolute), go through a folder (a real one, a symlink out of the
# suite or one inside it) and name a file (in the suite, in the host folder, a symlink out or in) or not.
_PATHS = st.tuples(
    st.booleans(),
    st.integers(0, 3),
    st.sampled_from(["", "outside", "outdir", "lib", "sub", "templates", "s"]),
    st.sampled_from(
        ["secret.ml", "secret.yaml", "inner.ml", "inner.yaml", "problems.yaml", "main.ml", "out.yaml", "in.yaml", ""]
    ),
)
Path_ = tuple[bool, int, str, str]


def _named(root: Path, path: Path_) -> str:
    absolute, climb, folder, name = path
    steps = [step for step in (folder, name) if step]
    return str(root.joinpath(*steps)) if absolute else "/".join([".."] * climb + steps)


@settings(FAST, max_examples=150)
@given(manifest=_MANIFEST | _JUNK, problems=_PROBLEMS_TEXT, jsonl=st.none() | _JSONL_TEXT)
def test_any_suite_folder_loads_or_is_a_one_line_error(
    manifest: dict[str, Any] | str | bytes, problems: str | bytes, jsonl: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if isinstance(manifest, dict):
            if jsonl is not None:
                manifest = manifest | {"problems_file": "p.jsonl"}
                _write(folder / "p.jsonl", jsonl)
            manifest = _dump(manifest)
        _write(folder / "suite.yaml", manifest)
        _write(folder / "problems.yaml", problems)
        suite = _loads_or_one_line(folder)
        if suite is not None:
            assert suite.name == "t" and all(p.timeout_s < float("inf") for p in suite.problems)


@settings(FAST, max_examples=150)
@given(path=_PATHS)
@example(path=(True, 0, "outside", "secret.yaml"))
@example(path=(False, 1, "outside", "secret.yaml"))
@example(path=(False, 0, "outdir", "secret.yaml"))
@example(path=(False, 0, "", "out.yaml"))
@example(path=(False, 0, "sub", ""))
def test_a_problems_file_is_read_only_from_inside_the_folder(path: Path_) -> None:
    with _outside() as (root, folder):
        named = _named(root, path)
        _write(folder / "suite.yaml", _dump(MANIFEST | {"problems_file": named}))
        suite = _loads_or_one_line(folder)
        inside = (folder / named).resolve().is_relative_to(folder.resolve())
        assert suite is None or inside, named
        assert suite is None or "stolen" not in {p.id for p in suite.problems}, named


@settings(FAST, max_examples=150)
@given(path=_PATHS, command=st.sampled_from(["needs", "loadt", "loads"]))
@example(path=(True, 0, "outside", "secret.ml"), command="needs")
@example(path=(False, 2, "outside", "secret.ml"), command="loadt")
@example(path=(False, 0, "outdir", "secret.ml"), command="loads")
def test_a_template_includes_nothing_from_outside_the_folder(path: Path_, command: str) -> None:
    with _outside() as (root, folder):
        _write(folder / "suite.yaml", _dump(MANIFEST | {"template_includes": True}))
        _write(folder / "problems.yaml", "- {id: a, statement: T, template: templates/main.ml, template_line: 2}\n")
        _write(folder / "templates" / "lib" / "inner.ml", "let inner = 1;;\n")
        (folder / "templates" / "outdir").symlink_to(root / "outside", target_is_directory=True)
        main = f'{command} "{_named(root, path)}";;\nlet a = prove(`T`, CHEAT_TAC);;\n'
        _write(folder / "templates" / "main.ml", main)
        suite = _loads_or_one_line(folder)
        if suite is None:
            return
        try:
            text = TemplateText.of(suite.problems[0]).text()
        except UserError as exc:
            assert "\n" not in str(exc), str(exc)
        else:
            assert "host_secret" not in text, main
