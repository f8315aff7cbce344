"""A batch on the engine stops its checkers when interrupted, instead of waiting out a long check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from provebench.engine import Engine
from provebench.errors import VerifierUnavailable
from provebench.model import Problem, Reason, Status, Verdict
from provebench.settings import Settings
from provebench.suites.load import find_suite
from tests.doubles.verifier import ScriptedVerifierDouble, verdict


def test_ctrl_c_during_a_long_check_stops_the_checkers_at_once(tmp_path: object) -> None:
    blocked, stopped = threading.Event(), threading.Event()

    class Stoppable(ScriptedVerifierDouble):
        def close(self) -> None:
            stopped.set()
            super().close()

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if call == 1:
            return verdict(Status.PASS, Reason.PROVED)
        blocked.set()  # a check that would run for hours (a long reference proof, a walk)
        if not stopped.wait(120):
            return verdict(Status.FAIL, Reason.TACTIC_FAILED, "nobody stopped the checker")
        return VerifierUnavailable("the container was stopped")

    problems = find_suite("hol-light-core", Settings().suites_dir).problems[:3]
    engine = Engine(Settings(), make=lambda _p, _s: Stoppable(script), infra_retries=0)
    seen: list[Verdict] = []
    verdicts = engine.map([(p, "ARITH_TAC") for p in problems], None, 1, lambda _p, v: seen.append(v))
    assert next(verdicts).status is Status.PASS

    def interrupt() -> None:
        if blocked.wait(60):  # a loaded machine can be slow to start the second check
            time.sleep(0.3)  # let the main thread get back to waiting for the next verdict
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        next(verdicts)
    assert stopped.is_set()
    # The check cut short is not reported as a verdict, and the third never started.
    assert [v.status for v in seen] == [Status.PASS]


def test_kill_stops_a_batch_and_its_checkers(tmp_path: Path) -> None:
    """SIGTERM (``kill``) stops provebench as Ctrl-C does: exit 130, checkers stopped, not left running."""
    tag = f"pb-kill-test-{uuid.uuid4().hex}"  # names this test's processes (the REPL runs in a session of its own)
    double = [sys.executable, str(Path(__file__).resolve().parents[1] / "doubles" / "lean_repl.py"), tag]
    batch = tmp_path / "batch.jsonl"
    hang = "theorem pb_and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  -- double: hang\n  exact ⟨h.2, h.1⟩\n"
    batch.write_text(json.dumps({"problem": "pb_and_swap", "proof": hang}) + "\n")
    env = dict(
        os.environ,
        PROVEBENCH_BACKEND="local",
        PROVEBENCH_LEAN_REPL_COMMAND=" ".join(double),
        PROVEBENCH_SUITES_DIR=str(tmp_path / "suites"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "provebench.cli", "check", "--suite", "lean4-core", "--batch", str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_processes_named(tag)) < 2:
        time.sleep(0.1)
    assert len(_processes_named(tag)) == 2, "the driver and its REPL double never started"
    time.sleep(1.0)  # the hanging check is under way
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)  # far below the problem's own time limit
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert _processes_named(tag) == []  # neither the driver nor the REPL outlives provebench


def _processes_named(tag: str) -> list[int]:
    """Live processes whose command line holds ``tag``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag in (entry / "cmdline").read_bytes().decode(errors="replace"):
                if (entry / "stat").read_text().split(") ")[-1][0] != "Z":  # a zombie is already gone
                    found.append(int(entry.name))
        except OSError:
            continue
    return found
