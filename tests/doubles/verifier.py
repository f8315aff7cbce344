"""An in-process verifier double for orchestration unit tests only.

It never judges a proof: the test scripts its verdicts. Every checker behaviour
is tested against the real checker in a real container elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Reason, Status, System, Verdict
from provebench.core.verifier import Verifier

DOUBLE_CHECKER = CheckerInfo(
    image="double",
    digest="sha256:double",
    system=System.HOL_LIGHT,
    version="double",
    recipe="double:0",
    packages="sha256:0",
)

Script = Callable[[Problem, str, int], Verdict | VerifierUnavailable]


def verdict(status: Status, reason: Reason, *messages: str) -> Verdict:
    """A scripted verdict from the double checker."""
    return Verdict(status=status, reason=reason, messages=messages, checker=DOUBLE_CHECKER)


def passes_if(expected: str) -> Script:
    """PASS exactly when the proof text equals ``expected``."""

    def script(problem: Problem, proof: str, _call: int) -> Verdict | VerifierUnavailable:
        if proof.strip() == expected:
            return verdict(Status.PASS, Reason.PROVED)
        return verdict(Status.FAIL, Reason.TACTIC_FAILED, f"scripted failure of {proof!r}")

    return script


class ScriptedVerifierDouble(Verifier):
    """Answers checks from a script ``(problem, proof, call number) -> Verdict | VerifierUnavailable``."""

    system = System.HOL_LIGHT
    checker = DOUBLE_CHECKER

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[tuple[str, str]] = []
        self.prepared = False
        self.closed = False

    def prepare(self) -> None:
        self.prepared = True

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        self.calls.append((problem.id, proof))
        out = self.script(problem, proof, len(self.calls))
        if isinstance(out, VerifierUnavailable):
            raise out
        return out

    def close(self) -> None:
        self.closed = True
