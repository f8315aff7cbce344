"""The interface the orchestrator knows provers by, and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from provebench.checking.proof_sessions import ProofSessions
from provebench.core.errors import UserError
from provebench.core.inputs import first_error
from provebench.core.journal import ApiRetry
from provebench.core.model import Problem
from provebench.provers.limiter import AdaptiveLimiter


class ProverUnavailable(Exception):
    """The prover cannot answer at all (dead endpoint, bad key); the run stops and can be resumed."""


@dataclass(frozen=True)
class PreviousAttempt:
    """A failed earlier round of the same sample, fed back in a repair round."""

    proof: str
    status: str
    reason: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class ProverOutput:
    """What a prover produced for one attempt; ``proof`` is None when it gave none."""

    proof: str | None
    raw_reply: str | None = None  # the answer the proof is taken from
    error: str | None = None  # the prover refused this problem (e.g. a 400 from the API)
    reasoning: str | None = None  # a reasoning model's thinking, sent apart from the answer
    tokens_in: int = 0
    tokens_out: int = 0  # every completion token, the reasoning's included
    tokens_reasoning: int = 0  # how many of tokens_out were reasoning, where the API says
    cost: float | None = None
    finish_reason: str | None = None
    seconds: float = 0.0
    api_retries: tuple[ApiRetry, ...] = field(default_factory=tuple)
    cached: bool = False  # taken from the reply cache: no request was made for it
    trajectory: tuple[dict[str, Any], ...] | None = None  # an agent's tool calls and their results, in order


class Prover(ABC):
    """Produces candidate proofs. Construction is cheap and validates settings; ``prepare()`` does I/O."""

    name: str
    can_repair: bool = True  # whether checker feedback can change its next answer

    def prepare(self, suite_problems: Sequence[Problem]) -> None:  # noqa: B027 - optional hook
        """Load data files, open clients, validate against the suite's problems; idempotent."""

    def preflight(self) -> None:  # noqa: B027 - optional hook
        """Fail within seconds, with one line (``RunStopped``), if the prover cannot answer at all.

        Runs before any checker loads: a dead endpoint, a refused key or an unknown model is said at once.
        """

    @abstractmethod
    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """A candidate proof of ``problem`` for sample ``sample``; ``history`` holds earlier failed rounds."""

    def request(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> dict[str, Any] | None:
        """The request ``attempt`` sends for this attempt, as JSON data; None for a prover that asks no API.

        What the endpoint is asked, and all of it: the model as the endpoint names it, the messages or
        the prompt, every sampling parameter; never a key, a timeout or a retry budget. The reply cache
        keys on it (with ``sample``), so a prover that overrides this gets a cache.
        """
        return None

    def use_checkers(self, sessions: ProofSessions) -> None:  # noqa: B027 - optional hook
        """The run's proof sessions on its warm checkers, for provers that step through proofs (the agent)."""

    def limit_requests(self, limiter: AdaptiveLimiter) -> None:  # noqa: B027 - optional hook
        """Send each request within ``limiter``'s window and tell it of 429s (a prover that asks no API: nothing)."""

    def describe(self) -> dict[str, Any]:
        """Settings recorded in the run manifest (never secrets)."""
        return {"name": self.name}

    def template_hashes(self) -> dict[str, str]:
        """Hashes of the prompt templates used, for the manifest."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release clients."""


ProverFactory = Callable[[Mapping[str, Any]], Prover]


def validate_settings(model: type[BaseModel], name: str, settings: Mapping[str, Any]) -> Any:
    """Validate a prover's settings mapping; the first problem as one line."""
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        where, msg = first_error(exc)
        raise UserError(f"prover {name}: setting '{where or '(settings)'}': {msg}") from None
