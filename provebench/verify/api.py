"""The interface the orchestrator and CLI know checkers by, and its registry."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
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

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """How much of the loading of each of ``others``' contexts a checker at ``problem``'s has done already.

        In lines of context text (0: none, or not known). Batches use it to keep
        problems that share a long load (s2n-bignum's base.ml) on one checker.
        """
        return [0] * len(others)

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A factory makes the verifier of a group of problems that share one context
# (the suite's context text, or one template file).
VerifierFactory = Callable[["Settings", Sequence[Problem]], Verifier]

_FACTORIES: dict[System, Callable[[], VerifierFactory]] = {}


def _hol_light_factory() -> VerifierFactory:
    from provebench.verify.hol_light import make_hol_light_group_verifier

    return make_hol_light_group_verifier


def _lean_factory() -> VerifierFactory:
    from provebench.verify.lean import make_lean_group_verifier

    return make_lean_group_verifier


_FACTORIES[System.HOL_LIGHT] = _hol_light_factory
_FACTORIES[System.LEAN4] = _lean_factory


def context_key(problem: Problem) -> tuple[str, str, str]:
    """Problems with equal keys are checked by one verifier (which walks their templates, if any)."""
    return (problem.system.value, problem.checker_image, problem.context)


def schedule(problems: Sequence[Problem]) -> list[Problem]:
    """The order to check problems in: context by context, template by template, longest timeouts first.

    A checker loads each context once and walks each template once, forward,
    when work comes in this order: templates with the longest timeouts first
    (so long checks do not trail at the end), within a template by position;
    problems without templates by timeout.
    """
    templates: dict[tuple[tuple[str, str, str], str], list[Problem]] = {}
    for p in problems:
        templates.setdefault((context_key(p), p.template or ""), []).append(p)
    contexts = list(dict.fromkeys(key for key, _ in templates))
    groups = sorted(templates.items(), key=lambda kv: (contexts.index(kv[0][0]), -max(p.timeout_s for p in kv[1])))
    return [p for _, group in groups for p in sorted(group, key=lambda p: (p.template_line or 0, -p.timeout_s))]


def make_group_verifier(problems: Sequence[Problem], settings: Settings) -> Verifier:
    """The verifier for problems that share one context."""
    if not problems or len({context_key(p) for p in problems}) != 1:
        raise ValueError("a group verifier needs problems that share one context")
    system = problems[0].system
    try:
        factory = _FACTORIES[system]()
    except KeyError:
        raise UserError(f"no checker for proof system {system.value!r} yet") from None
    return factory(settings, problems)
