"""The journal: whole lines, flushed; a torn last line is dropped and cut before appending."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord, Journal, read_journal
from provebench.core.model import Reason, Status, Verdict

ROOT = Path(__file__).resolve().parents[2]


def _rec(problem: str, sample: int = 0) -> AttemptRecord:
    verdict = Verdict(status=Status.FAIL, reason=Reason.TACTIC_FAILED)
    return AttemptRecord(problem=problem, sample=sample, round=0, verdict=verdict)


def test_records_are_visible_to_readers_as_soon_as_appended(tmp_path: Path) -> None:
    j = Journal(tmp_path / "attempts.jsonl")
    j.open()
    j.append(_rec("a"))
    assert [r.problem for r in read_journal(j.path)] == ["a"]  # flushed, before close
    j.append(_rec("b", 1))
    j.close()
    assert [r.key for r in read_journal(j.path)] == [("a", 0, 0), ("b", 1, 0)]


def test_torn_last_line_is_ignored_then_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "attempts.jsonl"
    whole = _rec("a").model_dump_json() + "\n"
    path.write_text(whole + _rec("b").model_dump_json()[:25])  # killed mid-write
    assert [r.problem for r in read_journal(path)] == ["a"]
    j = Journal(path)
    j.open()
    j.append(_rec("c"))
    j.close()
    assert [r.problem for r in read_journal(path)] == ["a", "c"]
    assert path.read_text().count("\n") == 2


def test_a_journal_that_is_only_a_torn_line_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "attempts.jsonl"
    path.write_text('{"problem": "a", "sam')
    j = Journal(path)
    j.open()
    j.close()
    assert path.read_text() == "" and read_journal(path) == []


def test_a_corrupt_line_in_the_middle_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "attempts.jsonl"
    path.write_text(_rec("a").model_dump_json() + "\n{not json}\n" + _rec("b").model_dump_json() + "\n")
    with pytest.raises(UserError, match=r"line 2: not an attempt record"):
        read_journal(path)


def test_every_record_has_the_required_keys(tmp_path: Path) -> None:
    line = _rec("a").model_dump(mode="json")
    assert {"problem", "sample", "round", "verdict", "prover", "schema_version"} <= set(line)
    assert line["schema_version"] == 2 and {"status", "reason", "checker"} <= set(line["verdict"])


def test_an_append_that_fails_part_way_leaves_only_whole_lines(tmp_path: Path) -> None:
    """A size limit (or a full disk) mid-record: the part written is cut off, and later appends stay readable."""
    path = tmp_path / "attempts.jsonl"
    path.write_text(_rec("a").model_dump_json() + "\n")
    code = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from provebench.core.journal import AttemptRecord, Journal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"  # so the write fails (EFBIG) instead of killing us
        f"path = Path({str(path)!r})\n"
        "verdict = {'status': 'FAIL', 'reason': 'tactic-failed'}\n"
        "rec = lambda p: AttemptRecord(problem=p, sample=0, round=0, verdict=verdict)\n"
        "j = Journal(path)\nj.open()\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 40, resource.RLIM_INFINITY))\n"
        "try:\n    j.append(rec('b'))\nexcept OSError:\n    print('failed')\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "j.append(rec('c'))\nj.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert child.returncode == 0 and child.stdout == "failed\n", child.stderr
    assert [r.problem for r in read_journal(path)] == ["a", "c"]


def test_a_fifo_in_the_journals_place_is_refused_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "attempts.jsonl"
    os.mkfifo(path)
    with pytest.raises(UserError, match="not a regular file|cannot open the journal"):
        Journal(path).open()
