from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.core.model import System
from provebench.suites.load import Suite, find_suite, load_suite


def write_suite(tmp_path: Path, manifest: str, problems: str, name: str = "problems.yaml") -> Path:
    (tmp_path / "suite.yaml").write_text(manifest)
    (tmp_path / name).write_text(problems)
    return tmp_path


MANIFEST = "name: t\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\ndefault_timeout_s: 5\n"


def test_bundled_core_suite(core_suite: Suite) -> None:
    assert core_suite.manifest.system is System.HOL_LIGHT
    assert len(core_suite.problems) >= 40
    assert all(p.reference_proof and p.category and p.timeout_s > 0 for p in core_suite.problems)
    cats = Counter(p.category for p in core_suite.problems)
    assert {"logic", "arithmetic", "lists", "sets", "integers", "reals"} <= set(cats)
    assert core_suite.content_hash.startswith("sha256:")


def test_defaults_and_jsonl(tmp_path: Path) -> None:
    folder = write_suite(
        tmp_path,
        MANIFEST + "problems_file: p.jsonl\n",
        '{"id": "a", "statement": "T"}\n\n{"id": "b", "statement": "T", "timeout_s": 9}\n',
        "p.jsonl",
    )
    s = load_suite(folder)
    assert [p.id for p in s.problems] == ["a", "b"]
    assert [p.timeout_s for p in s.problems] == [5, 9]
    assert s.problems[0].checker_image == "hol-light"


@pytest.mark.parametrize(
    ("manifest", "problems", "message"),
    [
        (MANIFEST, "- {id: a}\n", "problems.yaml: problem 1 (a): field 'statement': Field required"),
        (MANIFEST, "- {id: a, statement: T}\n- {id: a, statement: T}\n", "problem 2 (a): duplicate id 'a'"),
        (MANIFEST, "- {id: a, statement: T, timeout_s: -1}\n", "field 'timeout_s'"),
        (MANIFEST, "- {id: a, statement: T, colour: red}\n", "field 'colour': Extra inputs are not permitted"),
        (MANIFEST, "[oops\n", "problems.yaml: invalid YAML at line"),
        (MANIFEST, "{}\n", "expected a list of problems"),
        (MANIFEST, "[]\n", "the suite has no problems"),
        (MANIFEST.replace("hol-light\nv", "coq\nv"), "[]", "suite.yaml: field 'system'"),
        ("name: t\n", "[]", "suite.yaml: field 'system': Field required"),
    ],
)
def test_loading_errors_are_one_line_naming_file_and_field(
    tmp_path: Path, manifest: str, problems: str, message: str
) -> None:
    with pytest.raises(UserError) as info:
        load_suite(write_suite(tmp_path, manifest, problems))
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_bad_jsonl_line(tmp_path: Path) -> None:
    problems = '{"id": "a", "statement": "T"}\n{bad\n'
    folder = write_suite(tmp_path, MANIFEST + "problems_file: p.jsonl\n", problems, "p.jsonl")
    with pytest.raises(UserError, match=r"p.jsonl: line 2: invalid JSON"):
        load_suite(folder)


def test_unknown_suite_and_problem(tmp_path: Path, core_suite: Suite) -> None:
    with pytest.raises(UserError, match="unknown suite 'nope'; known suites: .*hol-light-core"):
        find_suite("nope", tmp_path)
    with pytest.raises(UserError, match="suite hol-light-core has no problem 'nope'"):
        core_suite.problem("nope")
