"""A suite's content hash covers its context, the trusted text every checker loads before its checks: a
changed context is another suite to a board's pin and to a resume."""

from __future__ import annotations

import shutil
from pathlib import Path

from provebench.suites.load import load_suite

CORE = Path(__file__).resolve().parents[2] / "problems" / "hol-light-core"


def _with_context(tmp_path: Path, name: str, context: str) -> str:
    folder = tmp_path / name
    shutil.copytree(CORE, folder)
    text = (folder / "suite.yaml").read_text()
    (folder / "suite.yaml").write_text(text.replace('context: ""', f"context: {context!r}"))
    return load_suite(folder).content_hash


def test_the_content_hash_changes_with_the_context(tmp_path: Path) -> None:
    empty = _with_context(tmp_path, "a", "")
    assert empty == load_suite(CORE).content_hash  # the copy is the same suite
    loaded = _with_context(tmp_path, "b", "let lemma = ARITH_RULE `1 + 1 = 2`;;")
    other = _with_context(tmp_path, "c", "let lemma = ARITH_RULE `2 + 2 = 4`;;")
    assert len({empty, loaded, other}) == 3
    assert all(p.context == "let lemma = ARITH_RULE `1 + 1 = 2`;;" for p in load_suite(tmp_path / "b").problems)
