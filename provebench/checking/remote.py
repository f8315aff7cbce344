"""The verifier of a command that checks through a checker service (``--server``): the engine's view of it.

Each check is one ``POST /v1/check`` naming the suite's problem (with a hash of the problem as
the client loaded it, so that a service whose suite differs refuses rather than checks something
else) or the ad-hoc goal. The verdict comes back with the service's checker identity and URL, so
journals record both. No memory is reserved here: the checkers are the service's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from provebench.checking.service_client import ServiceClient
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier

ADHOC_SUITE = "adhoc"


def problem_hash(problem: Problem) -> str:
    """What a service compares before checking a named problem.

    Where its source and its suite's prompt files lie is left out, and so is its time limit, which travels
    with each check (re-verification keeps a run's shorter one).
    """
    text = json.dumps(problem.content_fields({"template_root", "prompt_files", "timeout_s"}), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def target_of(problem: Problem) -> dict[str, Any]:
    """The ``/v1`` target naming a problem: its suite and id, or its ad-hoc goal."""
    if problem.suite == ADHOC_SUITE:
        return {"system": problem.system.value, "goal": problem.statement}
    return {"suite": problem.suite, "problem": problem.id, "problem_hash": problem_hash(problem)}


class RemoteVerifier(Verifier):
    """Checks on a provebench service; its checker identity is asked for when it is made (no checker starts)."""

    reserves_memory = False

    def __init__(self, problems: Sequence[Problem], settings: Settings) -> None:
        assert settings.server is not None
        self.system = problems[0].system
        self.client = ServiceClient(settings.server, settings.server_token)
        self._first = problems[0]
        self.checker = CheckerInfo.model_validate(self.client.identity(target_of(self._first))["checker"])

    def prepare(self) -> None:
        """Have the service load the context now."""
        self.client.identity(target_of(self._first), load=True)

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """One ``POST /v1/check``; the service's own retries are behind its verdict."""
        answer = self.client.check({**target_of(problem), "proof": proof}, problem.limit(timeout_s))
        try:
            return Verdict.model_validate(answer["verdict"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VerifierUnavailable(f"the service at {self.client.url} answered no verdict: {exc}") from None

    def close(self) -> None:
        """Nothing to stop: the checkers are the service's."""
