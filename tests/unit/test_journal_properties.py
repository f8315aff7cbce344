"""Property tests (Hypothesis) for the journals besides a run's: the selftest's (``suites selftest --journal
FILE``, a file the user names) and re-verification's progress (kept in the cache).

Both readers skip a line they cannot use (a line torn by a kill, junk, another suite revision's), so that
its check runs again; fed generated junk in a real file, each returns what it could read and raises
nothing. What they return is checked too: only usable lines, and what was journalled reads back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provebench.boards.reverify import Result, _done
from provebench.core.model import Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.runs.selftest import SelftestJournal
from provebench.suites.load import Suite, find_suite

PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEEP = 100_000

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_lines_of_junk = st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")), max_size=6)


@pytest.fixture(scope="module")
def suite() -> Suite:
    return find_suite("hol-light-core", Settings(_env_file=None).suites_dir)  # type: ignore[call-arg]


def _verdict_row(draw: st.DrawFn, suite_hash: str) -> dict[str, object]:
    verdict = Verdict(
        status=draw(st.sampled_from(list(Status))),
        reason=draw(st.sampled_from(list(Reason))),
        messages=tuple(draw(st.lists(st.text(max_size=12), max_size=2))),
    )
    return {
        "problem": draw(st.sampled_from(["add_comm", "peirce", "", "unknown"])),
        "suite_hash": draw(st.sampled_from([suite_hash, "sha256:other"])),
        "verdict": verdict.model_dump(mode="json"),
    }


@st.composite
def selftest_journal(draw: st.DrawFn, suite_hash: str) -> bytes:
    """Lines a selftest writes, some altered or replaced by junk, maybe a torn tail."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["real", "altered", "junk"]))
        row = _verdict_row(draw, suite_hash)
        if kind == "altered":
            row[draw(st.sampled_from(["problem", "suite_hash", "verdict"]))] = draw(_values)
        lines.append(json.dumps(row).encode() if kind != "junk" else draw(st.binary(max_size=60)).replace(b"\n", b" "))
    torn = draw(st.sampled_from([b"", b'{"problem": "add_c', b"["]))
    return b"".join(line + b"\n" for line in lines) + torn


def _check_selftest_read(path: Path, suite: Suite) -> dict[str, Verdict]:
    """What a selftest journal read promises: verdicts (no ERROR), and only from whole lines of this revision."""
    done = SelftestJournal(path, suite).done()
    raw = path.read_bytes()
    whole = raw[: raw.rfind(b"\n") + 1]
    for problem, verdict in done.items():
        assert isinstance(problem, str) and isinstance(verdict, Verdict) and verdict.status is not Status.ERROR
    assert not done or suite.content_hash.encode() in whole
    return done


@settings(PROPERTY, max_examples=300)
@given(data=st.data())
def test_a_selftest_journal_of_junk_reads_as_the_verdicts_it_holds(
    tmp_path: Path, suite: Suite, data: st.DataObject
) -> None:
    path = tmp_path / "selftest.jsonl"
    junk = _lines_of_junk.map(lambda ls: b"\n".join(ls) + b"\n")
    path.write_bytes(data.draw(selftest_journal(suite.content_hash) | junk))
    _check_selftest_read(path, suite)


def test_a_deeply_nested_selftest_journal_line_is_skipped_not_a_traceback(tmp_path: Path, suite: Suite) -> None:
    """json.loads recursed until RecursionError, which the reader did not catch: a traceback."""
    path = tmp_path / "selftest.jsonl"
    row = {"problem": "add_comm", "suite_hash": suite.content_hash, "verdict": {"status": "PASS", "reason": "proved"}}
    path.write_bytes(b"[" * DEEP + b"]" * DEEP + b"\n" + json.dumps(row).encode() + b"\n")
    assert set(_check_selftest_read(path, suite)) == {"add_comm"}


@settings(PROPERTY, max_examples=150)
@given(statuses=st.lists(st.sampled_from(list(Status)), max_size=8))
def test_what_a_selftest_journals_reads_back(tmp_path: Path, suite: Suite, statuses: list[Status]) -> None:
    path = tmp_path / "selftest.jsonl"
    path.unlink(missing_ok=True)
    journal = SelftestJournal(path, suite)
    expected = {}
    for problem, status in zip(suite.problems, statuses, strict=False):
        verdict = Verdict(status=status, reason=Reason.PROVED if status is Status.PASS else Reason.TACTIC_FAILED)
        journal.append(problem, verdict)
        if status is not Status.ERROR:
            expected[problem.id] = verdict
    with path.open("ab") as f:
        f.write(b'{"problem": "torn')  # a selftest killed mid-write
    assert journal.done() == expected


@st.composite
def progress_journal(draw: st.DrawFn) -> bytes:
    """Lines re-verification keeps, some altered or replaced by junk, maybe a torn tail."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 6))):
        row: dict[str, object] = {
            "problem": draw(st.sampled_from(["add_comm", "peirce"])),
            "sample": draw(st.integers(0, 2)),
            "round": draw(st.integers(0, 1)),
            "proof_sha256": "0" * 64,
            "status": draw(st.sampled_from([s.value for s in Status])),
            "reason": draw(st.sampled_from([r.value for r in Reason])),
            "message": draw(st.text(max_size=20)),
        }
        kind = draw(st.sampled_from(["real", "altered", "dropped", "junk"]))
        if kind == "altered":
            row[draw(st.sampled_from(sorted(row)))] = draw(_values)
        elif kind == "dropped":
            del row[draw(st.sampled_from(sorted(row)))]
        lines.append(json.dumps(row).encode() if kind != "junk" else draw(st.binary(max_size=60)).replace(b"\n", b" "))
    torn = draw(st.sampled_from([b"", b'{"problem": "add_c', b"{"]))
    return b"".join(line + b"\n" for line in lines) + torn


@settings(PROPERTY, max_examples=300)
@given(raw=progress_journal() | _lines_of_junk.map(lambda ls: b"\n".join(ls) + b"\n"))
@example(raw=b"{" * DEEP + b"\n")
@example(raw=b'{"problem": ' + b"[" * DEEP + b"]" * DEEP + b"}\n")
def test_a_reverification_progress_journal_of_junk_reads_as_the_checks_it_holds(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "progress.jsonl"
    path.write_bytes(raw)
    done = _done(path)
    for key, (proof_hash, result) in done.items():
        assert isinstance(key, tuple) and len(key) == 3 and isinstance(proof_hash, str)
        assert isinstance(result, Result) and isinstance(result.status, Status) and isinstance(result.reason, Reason)
