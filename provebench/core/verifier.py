"""The interface the engine and the CLI know checkers by (their registry: ``checking.registry``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from provebench.core.errors import UserError
from provebench.core.model import CheckerInfo, Problem, System, Verdict
from provebench.core.proof_states import LiveSession, StepOutcome

if TYPE_CHECKING:
    from provebench.core.settings import Settings


class Verifier(ABC):
    """Checks candidate proofs of problems of one proof system.

    Construction is cheap; ``prepare()`` starts the warm checkers. A rejected
    proof is a ``Verdict``; a checker that cannot answer raises
    ``VerifierUnavailable``.
    """

    system: System
    checker: CheckerInfo  # the pinned checker whose verdicts this verifier returns
    restarts: int = 0  # checkers that died and were started again
    reserves_memory: bool = True  # False where the checkers run elsewhere (a checker service)

    @abstractmethod
    def prepare(self) -> None:
        """Start (and load) the warm checkers; idempotent."""

    @abstractmethod
    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check ``proof`` against ``problem``; blocks until a checker is free."""

    @abstractmethod
    def close(self) -> None:
        """Stop every checker this verifier started."""

    def open_session(self, problem: Problem, timeout_s: float | None = None) -> tuple[LiveSession | None, StepOutcome]:
        """Open an interactive proof session on ``problem`` in a warm checker (None: the goal did not open).

        Advice only: the proof a session leads to is checked with ``check``. Checkers that have no
        sessions say so.
        """
        raise UserError(f"proof sessions are not available for {self.system.value} problems (HOL Light has them)")

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A factory makes the verifier of a group of problems that share one context
# (the suite's context text, or one template file).
VerifierFactory = Callable[["Settings", Sequence[Problem]], Verifier]


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
