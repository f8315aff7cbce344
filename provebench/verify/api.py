"""The interface the orchestrator and CLI know checkers by, and its registry."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from provebench.errors import UserError
from provebench.model import CheckerInfo, Problem, System, Verdict

if TYPE_CHECKING:
    from provebench.settings import Settings


class Verifier(ABC):
    """Checks candidate proofs of problems of one proof system.

    Construction is cheap; ``prepare()`` starts the warm checkers. A rejected
    proof is a ``Verdict``; a checker that cannot answer raises
    ``VerifierUnavailable``.
    """

    system: System
    checker: CheckerInfo  # the pinned checker whose verdicts this verifier returns

    @abstractmethod
    def prepare(self) -> None:
        """Start (and load) the warm checkers; idempotent."""

    @abstractmethod
    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check ``proof`` against ``problem``; blocks until a checker is free."""

    async def acheck(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Async form of ``check``; checks run concurrently up to the pool size."""
        return await asyncio.to_thread(self.check, problem, proof, timeout_s)

    @abstractmethod
    def close(self) -> None:
        """Stop every checker this verifier started."""

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


VerifierFactory = Callable[["Settings", str], Verifier]

_FACTORIES: dict[System, Callable[[], VerifierFactory]] = {}


def _hol_light_factory() -> VerifierFactory:
    from provebench.verify.hol_light import make_hol_light_verifier

    return make_hol_light_verifier


_FACTORIES[System.HOL_LIGHT] = _hol_light_factory


def make_verifier(system: System, settings: Settings, context: str = "") -> Verifier:
    """A verifier for ``system`` whose checkers load ``context`` once."""
    try:
        factory = _FACTORIES[system]()
    except KeyError:
        raise UserError(f"no checker for proof system {system.value!r} yet") from None
    return factory(settings, context)
