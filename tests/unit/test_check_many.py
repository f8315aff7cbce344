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
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest

from provebench.checking.batches import check_in_order
from provebench.checking.engine import Engine
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
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

    # Ctrl-C must reach the main thread while it waits in the batch for the next verdict. One taken before
    # (the test not yet back in next()) would stop the test, not the batch, and one that comes just as the
    # thread blocks waits, unhandled, until the lock is released. So the interrupt is sent again until a
    # handler that finds the batch on the main thread's stack takes it and raises, as Python's own does.
    taken: list[bool] = []

    def on_sigint(_signum: int, frame: FrameType | None) -> None:
        while frame is not None and not taken:
            if frame.f_code is check_in_order.__code__:
                taken.append(True)
                raise KeyboardInterrupt
            frame = frame.f_back

    def interrupt() -> None:
        if not blocked.wait(60):  # the second check is under way
            return
        deadline = time.monotonic() + 60
        while not taken and time.monotonic() < deadline:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            time.sleep(0.1)

    interrupter = threading.Thread(target=interrupt, daemon=True)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            next(verdicts)
    finally:
        interrupter.join(70)  # no interrupt left to reach the handler restored next
        signal.signal(signal.SIGINT, previous)
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
    # The REPL double makes this file when the hanging proof reaches it: the check is under way.
    hanging = tmp_path / "hanging"
    env["PB_LEAN_REPL_DOUBLE_HANGING"] = str(hanging)
    proc = subprocess.Popen(
        [sys.executable, "-m", "provebench.cli.main", "check", "--suite", "lean4-core", "--batch", str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    if not _wait_for(hanging.exists, 60):
        for pid in [proc.pid, *_processes_named(tag)]:
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"the hanging check never reached the REPL double: {proc.communicate()[1]}")
    assert len(_processes_named(tag)) == 2, "the driver and its REPL double are not both running"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)  # far below the problem's own time limit
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert _processes_named(tag) == []  # neither the driver nor the REPL outlives provebench


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout_s`` has passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


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
