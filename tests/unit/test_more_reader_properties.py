"""Property tests (Hypothesis) for the readers of outside input that the other property files leave out:
batch files (``check --batch``), zipped answers (a leaderboard's submission format), portfolios and problem-id
lists (a run's config points at them), and boards (``board.yaml`` and ``entry.json``, from a board's repository).

Fed generated junk, or a real file with one part made junk, in a real file, each reader returns a value or
raises the one-line ``UserError``, nothing else; what it returns is checked too.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from provebench.boards.board import Board
from provebench.boards.pages import render_board
from provebench.core.errors import UserError
from provebench.core.model import System
from provebench.core.settings import Settings
from provebench.provers.baseline import Strategy, load_portfolio
from provebench.provers.replay import load_answers
from provebench.runs.config import read_ids_file
from provebench.suites.check_requests import parse_batch
from provebench.suites.load import Suite, find_suite

ROOT = Path(__file__).resolve().parents[2]
BOARD = ROOT / "leaderboards" / "hol-light-core"


def examples(n: int) -> settings:
    """``n`` examples, each on a real file; no deadline (the machine is shared, timings vary)."""
    return settings(max_examples=n, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


_WORDS = st.sampled_from(["add_comm", "peirce", "nope", "T", "`T`", "ARITH_TAC", "hol-light", "", "#", "\ufeff"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | _WORDS
_KEYS = st.sampled_from(["proof", "goal", "problem", "id", "name", "tactic", "answer", "problem_id"]) | st.text(
    max_size=6
)
VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=10
)
TEXT = st.lists(
    st.one_of(st.sampled_from(['"', ",", "\n", "\r\n", "#", " ", "{", "["]), st.text(max_size=8)), max_size=40
)


def _refused(exc: UserError) -> None:
    event("refused")
    assert str(exc) and "\n" not in str(exc) and "\r" not in str(exc) and len(str(exc)) < 2000, repr(str(exc))


@pytest.fixture(scope="module")
def suite() -> Suite:
    return find_suite("hol-light-core", Settings(_env_file=None).suites_dir)  # type: ignore[call-arg]


# ---------------------------------------------------------------- batch files


BATCH_ITEM = st.fixed_dictionaries(
    {"proof": st.text(max_size=12) | _WORDS},
    optional={
        "problem": st.sampled_from(["add_comm", "peirce", "nope"]) | _SCALARS,
        "goal": st.sampled_from(["T", "`T`", ""]) | _SCALARS,
        "id": _SCALARS,
    },
)
WELL_FORMED = st.fixed_dictionaries(
    {"proof": st.text(max_size=12)},
    optional={"problem": st.sampled_from(["add_comm", "peirce"]), "goal": st.just("T"), "id": _SCALARS},
)
BATCH_LINE = st.one_of(
    BATCH_ITEM.map(json.dumps), VALUES.map(json.dumps), TEXT.map("".join).map(lambda t: t.replace("\n", " "))
)


@examples(300)
@given(
    lines=st.lists(BATCH_LINE, max_size=5) | st.lists(WELL_FORMED.map(json.dumps), min_size=1, max_size=3),
    by_suite=st.booleans(),
    by_system=st.booleans(),
)
def test_any_batch_file_is_read_or_a_one_line_error(
    tmp_path: Path, suite: Suite, lines: list[str], by_suite: bool, by_system: bool
) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    try:
        items = parse_batch(str(path), suite if by_suite else None, System.HOL_LIGHT if by_system else None, None)
    except UserError as exc:
        _refused(exc)
        return
    event("read")
    assert items and all(isinstance(i.proof, str) for i in items)
    assert all(i.problem.suite == suite.name or i.problem.system is System.HOL_LIGHT for i in items)


# ---------------------------------------------------------------- zipped answers


def _answers_or_refused(path: Path) -> None:
    try:
        answers = load_answers(path)
    except UserError as exc:
        _refused(exc)
        return
    event("read")
    assert answers and all(isinstance(k, str) and all(isinstance(a, str) for a in v) for k, v in answers.items())


CSV_TEXT = st.sampled_from(
    [b"problem_id,answer\nadd_comm,ARITH_TAC\n", b'problem_id,answer\np,"x\n', b"\xff\xfe"]
) | st.lists(TEXT.map("".join).map(lambda t: t.replace("\n", " ")), max_size=3).map(
    lambda rows: ("problem_id,answer\n" + "".join(f"p{i},{r}\n" for i, r in enumerate(rows))).encode()
)
MEMBERS = st.lists(
    st.tuples(
        st.sampled_from(["answers.csv", "ANSWERS.CSV", "__MACOSX/._answers.csv", "dir/", "other.txt", "b.csv"]),
        CSV_TEXT | TEXT.map("".join).map(str.encode),
    ),
    max_size=3,
    unique_by=lambda member: member[0],  # a name written twice: zipfile warns, and readers differ on it
) | CSV_TEXT.map(lambda text: [("answers.csv", text)])  # as a leaderboard's submission is: one CSV


@examples(300)
@given(members=MEMBERS, junk=st.none() | st.binary(max_size=300))
def test_any_zip_of_answers_is_read_or_a_one_line_error(
    tmp_path: Path, members: list[tuple[str, bytes]], junk: bytes | None
) -> None:
    path = tmp_path / "answers.zip"
    if junk is not None:
        path.write_bytes(junk)
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in members:
                z.writestr(name, data)
        path.write_bytes(buffer.getvalue())
    _answers_or_refused(path)


# ---------------------------------------------------------------- portfolios and problem-id lists

STRATEGIES = st.lists(
    st.fixed_dictionaries({"name": st.text(min_size=1, max_size=8), "tactic": st.text(min_size=1, max_size=12)})
    | st.fixed_dictionaries({"name": _SCALARS, "tactic": _SCALARS})
    | st.dictionaries(_KEYS, VALUES, max_size=3),
    max_size=4,
)


@examples(300)
@given(data=STRATEGIES | VALUES, as_text=st.none() | TEXT.map("".join))
def test_any_portfolio_file_loads_or_is_a_one_line_error(tmp_path: Path, data: Any, as_text: str | None) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data) if as_text is None else as_text, encoding="utf-8")
    try:
        strategies = load_portfolio(path)
    except UserError as exc:
        _refused(exc)
        return
    event("read")
    assert strategies and all(isinstance(s, Strategy) and s.name and s.tactic for s in strategies)


@examples(300)
@given(raw=st.binary(max_size=300) | TEXT.map("".join).map(str.encode))
def test_any_problem_id_list_reads_or_is_a_one_line_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(raw)
    try:
        ids = read_ids_file(path)
    except UserError as exc:
        _refused(exc)
        return
    event("read")
    assert all(i and "#" not in i and i == i.strip() and "\n" not in i for i in ids)


# ---------------------------------------------------------------- boards


def _altered(original: dict[str, Any], data: st.DataObject) -> Any:
    """``original`` as it is, with one top-level field replaced by junk or dropped, or junk altogether."""
    how = data.draw(st.sampled_from(["keep", "replace", "drop", "junk"]))
    if how == "keep":
        return original
    if how == "junk":
        return data.draw(VALUES)
    value = dict(original)
    key = data.draw(st.sampled_from(sorted(value)))
    if how == "drop":
        del value[key]
    else:
        value[key] = data.draw(VALUES)
    return value


@examples(200)
@given(data=st.data(), which=st.sampled_from(["board.yaml", "entry.json", "both"]))
def test_a_board_of_junk_renders_or_is_a_one_line_error(tmp_path: Path, data: st.DataObject, which: str) -> None:
    board = tmp_path / "board"
    shutil.rmtree(board, ignore_errors=True)
    shutil.copytree(BOARD, board)
    entry = next(board.glob("entries/*/entry.json"))
    if which in ("board.yaml", "both"):
        config = yaml.safe_load((board / "board.yaml").read_text())
        (board / "board.yaml").write_text(yaml.safe_dump(_altered(config, data)))
    if which in ("entry.json", "both"):
        entry.write_text(json.dumps(_altered(json.loads(entry.read_text()), data)))
    try:
        index, readme = render_board(Board(board), tmp_path / "suites")
    except UserError as exc:
        _refused(exc)
        return
    event("rendered")
    assert index.startswith("<!doctype html>") and readme
