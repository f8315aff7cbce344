"""Attempt records for tests: a verdict and a prover's answer with only the fields a test is about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provebench.core.journal import AttemptRecord, ProverAnswer
from provebench.core.model import Reason, Status, Verdict

REASON_OF = {Status.PASS: Reason.PROVED, Status.ERROR: Reason.CHECKER_UNAVAILABLE, Status.TIMEOUT: Reason.WALL_TIMEOUT}


def attempt(
    problem: str,
    sample: int = 0,
    status: Status = Status.FAIL,
    *,
    rnd: int = 0,
    reason: Reason | None = None,
    proof: str | None = None,
    verdict: Mapping[str, Any] | None = None,
    prover: Mapping[str, Any] | None = None,
) -> AttemptRecord:
    """A record of ``status`` (with a reason of that status unless given), other verdict and prover fields as given."""
    return AttemptRecord(
        problem=problem,
        sample=sample,
        round=rnd,
        prover=ProverAnswer(proof=proof, **(prover or {})),
        verdict=Verdict(status=status, reason=reason or REASON_OF.get(status, Reason.TACTIC_FAILED), **(verdict or {})),
    )
