"""A prover behind the reply cache: a reply to a request already made is taken from the cache, not asked again.

The layer knows nothing of any API: it asks the prover for the request it is about to send
(``Prover.request``, the JSON body of a chat or completions request alike), looks that request and the
sample index up in the cache, and only on a miss lets the prover send it; the answer is then stored. An
answer that is an API error (a 400, say) is no reply and is not stored: the next run asks again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.model import Problem
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.reply_cache import ReplyCache

_log = logging.getLogger("provebench")


class CachedReply(BaseModel):
    """What the cache keeps of an answer: the reply, the proof taken from it, and what it cost when it was made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proof: str | None
    raw_reply: str | None
    reasoning: str | None = None  # absent from entries made before reasoning was kept
    tokens_in: int = Field(ge=0)
    tokens_out: int = Field(ge=0)
    tokens_reasoning: int = Field(default=0, ge=0)
    cost: float | None = Field(ge=0, allow_inf_nan=False)
    finish_reason: str | None

    @classmethod
    def of(cls, out: ProverOutput) -> CachedReply:
        """The part of ``out`` worth keeping (not its time nor its retries: they were this request's)."""
        return cls(
            proof=out.proof,
            raw_reply=out.raw_reply,
            reasoning=out.reasoning,
            tokens_in=out.tokens_in,
            tokens_out=out.tokens_out,
            tokens_reasoning=out.tokens_reasoning,
            cost=out.cost,
            finish_reason=out.finish_reason,
        )


class CachedProver(Prover):
    """``inner``, with its replies kept in and taken from ``cache``."""

    def __init__(self, inner: Prover, cache: ReplyCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.can_repair = inner.can_repair

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """The inner prover's."""
        self.inner.prepare(suite_problems)

    def preflight(self) -> None:
        """The inner prover's (a run whose replies are all cached still checks that its endpoint answers)."""
        self.inner.preflight()

    def request(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> dict[str, Any] | None:
        """The inner prover's."""
        return self.inner.request(problem, sample, history)

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """The cached reply to the request of this attempt, else the inner prover's answer (then stored)."""
        request = self.inner.request(problem, sample, history)
        if request is None:
            return await self.inner.attempt(problem, sample, history)
        started = time.monotonic()
        stored = self.cache.get(request, sample)
        if stored is not None:
            try:
                reply = CachedReply.model_validate(stored)
            except ValidationError:
                _log.warning("reply cache: an entry for %s sample %d is not a reply: asked again", problem.id, sample)
            else:
                return ProverOutput(
                    proof=reply.proof,
                    raw_reply=reply.raw_reply,
                    reasoning=reply.reasoning,
                    tokens_in=reply.tokens_in,
                    tokens_out=reply.tokens_out,
                    tokens_reasoning=reply.tokens_reasoning,
                    cost=reply.cost,
                    finish_reason=reply.finish_reason,
                    seconds=time.monotonic() - started,
                    cached=True,
                )
        out = await self.inner.attempt(problem, sample, history)
        if out.error is None:
            self.cache.put(request, sample, CachedReply.of(out).model_dump(mode="json"))
        return out

    def limit_requests(self, limiter: AdaptiveLimiter) -> None:
        """The inner prover's (a reply from the cache takes no place in the window)."""
        self.inner.limit_requests(limiter)

    def describe(self) -> dict[str, Any]:
        """The inner prover's."""
        return self.inner.describe()

    def template_hashes(self) -> dict[str, str]:
        """The inner prover's."""
        return self.inner.template_hashes()

    async def aclose(self) -> None:
        """The inner prover's."""
        await self.inner.aclose()


def sends_requests(prover: Prover) -> bool:
    """Whether ``prover`` says what it asks an API (overrides ``Prover.request``): only such provers have replies."""
    return type(prover).request is not Prover.request


def with_reply_cache(prover: Prover, folder: Path) -> Prover:
    """``prover`` behind the reply cache in ``folder``; a prover that asks no API as it is."""
    return CachedProver(prover, ReplyCache(folder)) if sends_requests(prover) else prover
