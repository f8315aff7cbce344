"""A Lean session closed by another thread (the verifier's close(), a replacement) while it is in use.

The session is the real one (provebench/systems/lean/session.py) with the real driver; the REPL behind it
is tests/doubles/lean_repl.py (a DOUBLE: no Lean here). Whoever waits on a closed session gets
VerifierUnavailable, and its reader thread ends without an exception: pytest's warning for an exception
in a thread is an error in these tests.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.systems.lean.session import LeanSession, LocalLeanLauncher

ROOT = Path(__file__).resolve().parents[2]
REPL_DOUBLE = [sys.executable, str(ROOT / "tests" / "doubles" / "lean_repl.py")]
NO_THREAD_EXCEPTION = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


def _in_thread(call: Any, outcome: dict[str, Any]) -> threading.Thread:
    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["raised"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _until(condition: Any, what: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {limit_s} s for {what}"
        time.sleep(0.02)


@NO_THREAD_EXCEPTION
def test_a_session_closed_while_a_check_is_in_flight_fails_the_check_as_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanging = tmp_path / "hanging"
    monkeypatch.setenv("PB_LEAN_REPL_DOUBLE_HANGING", str(hanging))  # the double makes it as it starts to hang
    session = LeanSession(LocalLeanLauncher(REPL_DOUBLE), "import Mathlib", load_timeout_s=60)
    session.start()
    outcome: dict[str, Any] = {}
    check = _in_thread(
        lambda: session.run("theorem t : True := by\n  -- double: hang\n  trivial", "header", 60), outcome
    )
    _until(hanging.exists, "the check to be under way")
    session.close()
    check.join(30)
    assert not check.is_alive()
    assert isinstance(outcome.get("raised"), VerifierUnavailable), outcome
    with pytest.raises(VerifierUnavailable, match="stopped"):
        session.run("theorem t : True := trivial", "header", 10)  # and it stays closed


@NO_THREAD_EXCEPTION
def test_a_session_closed_before_its_reader_reads_ends_the_reader_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    # close() from another thread lands between the driver's start and its reader's first read: the
    # reader is held (the real one runs after) until close() is done, the order that made it fail.
    closed, reading = threading.Event(), threading.Event()
    read = LeanSession._read

    def held(self: LeanSession, *args: Any) -> None:
        reading.set()
        closed.wait(30)
        read(self, *args)

    monkeypatch.setattr(LeanSession, "_read", held)
    session = LeanSession(LocalLeanLauncher(REPL_DOUBLE), "import Mathlib", load_timeout_s=10)
    outcome: dict[str, Any] = {}
    start = _in_thread(session.start, outcome)
    _until(reading.is_set, "the reader to start")
    session.close()
    closed.set()
    start.join(30)
    assert not start.is_alive()
    assert isinstance(outcome.get("raised"), VerifierUnavailable), outcome
