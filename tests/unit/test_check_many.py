"""check_many stops its checkers when interrupted, instead of waiting out a long check."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from provebench.checking import VerifierPool, check_many
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
        if not stopped.wait(30):
            return verdict(Status.FAIL, Reason.TACTIC_FAILED, "nobody stopped the checker")
        return VerifierUnavailable("the container was stopped")

    problems = find_suite("hol-light-core", Settings().suites_dir).problems[:3]
    pool = VerifierPool(Settings(), make=lambda _p, _s: Stoppable(script))
    seen: list[Verdict] = []
    verdicts = check_many(pool, [(p, "ARITH_TAC") for p in problems], None, 1, lambda _p, v: seen.append(v))
    assert next(verdicts).status is Status.PASS

    def interrupt() -> None:
        if blocked.wait(10):
            time.sleep(0.3)  # let the main thread get back to waiting for the next verdict
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        next(verdicts)
    assert stopped.is_set()
    # The check cut short is not reported as a verdict, and the third never started.
    assert [v.status for v in seen] == [Status.PASS]
