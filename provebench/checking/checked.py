"""What the engine returns for one check."""

from __future__ import annotations

from dataclasses import dataclass

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Reason, Status, Verdict


@dataclass(frozen=True)
class Checked:
    """A verdict, and how many times the infrastructure failed on the way to it."""

    verdict: Verdict
    retries: int


def infrastructure_verdict(exc: VerifierUnavailable) -> Verdict:
    """The ERROR verdict of a check whose checker failed, retries spent."""
    return Verdict(status=Status.ERROR, reason=Reason.CHECKER_UNAVAILABLE, messages=(str(exc),))
