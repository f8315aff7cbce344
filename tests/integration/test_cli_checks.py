"""`provebench check` end to end: real checker, real exit codes and JSON shape."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

VERDICT_KEYS = {"id", "status", "reason", "messages", "check_seconds", "checker"}


def provebench(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provebench.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_batch_mixes_problems_and_goals_in_input_order(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "problem": "add_comm", "proof": "ARITH_TAC"},
        {"id": "b", "problem": "add_comm", "proof": "REWRITE_TAC[]"},
        {"id": "c", "goal": "!n. n + 0 = n", "proof": "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]"},
        {"id": "d", "problem": "add_comm", "proof": "CHEAT_TAC"},
        {"problem": "union_comm", "proof": "SET_TAC[]"},
    ]
    batch = tmp_path / "proofs.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    done = provebench("check", "--suite", "hol-light-core", "--system", "hol-light", "--batch", str(batch))
    assert done.returncode == 1, done.stderr  # not every verdict is PASS
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", None]
    assert [o["status"] for o in out] == ["PASS", "FAIL", "PASS", "CHEATING", "PASS"]
    for o in out:
        assert VERDICT_KEYS <= set(o)
        assert o["checker"]["digest"].startswith("sha256:")
        assert o["checker"]["version"].startswith("1:3.1.0+git20260619")


def test_single_check_json_from_stdin_and_exit_codes() -> None:
    done = provebench("check", "--system", "hol-light", "--goal", "`!n. n + 0 = n`", "--json", stdin="ARITH_TAC")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert VERDICT_KEYS <= set(verdict)
    assert (verdict["status"], verdict["reason"]) == ("PASS", "proved")
    assert verdict["checker"]["system"] == "hol-light"


def test_a_selftest_journals_real_verdicts_and_a_rerun_trusts_them_without_a_checker(tmp_path: Path) -> None:
    journal = tmp_path / "selftest.jsonl"
    args = ("suites", "selftest", "hol-light-core", "--sample", "3", "--json", "--journal", str(journal))
    first = provebench(*args)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["checked"] == report["passed"] == 3 and report["failures"] == []
    assert 0 <= report["tightest"]["share"] < 1 and report["tightest"]["seconds"] < report["tightest"]["timeout_s"]
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(rows) == 3 and all(r["verdict"]["checker"]["digest"].startswith("sha256:") for r in rows)
    # Every verdict came from the current image (the same digest a checker would have now): no checker starts.
    again = provebench(*args)
    assert again.returncode == 0, again.stderr
    assert "3 of 3 verdicts from" in again.stderr and "starting up to" not in again.stderr
    assert json.loads(again.stdout) == report


def _checker_containers(pid: int, every: bool = False) -> set[str]:
    """Running checker containers made by process ``pid``; with ``every``, also those made and not (or no longer)
    running. Other tests may run checkers at the same time."""
    client = docker.from_env()
    labels = ["org.provebench.role=checker", f"org.provebench.owner-pid={pid}"]
    return {c.id for c in client.containers.list(all=every, filters={"label": labels})}


@pytest.mark.parametrize("attempt", range(4))  # a race: it lost the container in 10 of 50 kills
def test_kill_while_a_checker_loads_removes_its_container(tmp_path: Path, attempt: int) -> None:
    proof = tmp_path / "p.ml"
    proof.write_text("MESON_TAC[]\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "provebench.cli.main", "check", "--suite", "hol-light-core", "--problem", "gauss_sum"]
        + [str(proof)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _checker_containers(proc.pid):
        time.sleep(0.2)
    assert _checker_containers(proc.pid), "no checker container started"
    proc.send_signal(signal.SIGTERM)  # HOL Light is still loading (about 100 s)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err, err
    # Removed by the time provebench exits, not left loading on its own (nor made and never started).
    assert not _checker_containers(proc.pid, every=True)
