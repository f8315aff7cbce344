"""A prover behind any OpenAI-compatible endpoint: chat completions, or text completions (``api: completions``).

The prompt comes from the generic templates of the problem's proof system, a folder of the user's own
(``prompt_dir``), or a bundled preset (``prompt``) that follows one prover model's documented format;
the proof is the reply's last fenced code block, or what the preset's extraction rule finds. Requests,
retries and fault classes are in ``openai_transport``; the two APIs' bodies and replies in ``openai_requests``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import openai

from provebench.core.model import Problem
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, validate_settings
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.openai_requests import Reply, Request, send
from provebench.provers.openai_settings import SAMPLING_KEYS, Api, OpenAISettings, Prices
from provebench.provers.openai_transport import Fetched, Retrying, async_client, preflight
from provebench.provers.prompt_source import PromptSource

__all__ = ["OpenAIChatProver", "OpenAISettings", "Prices"]


class OpenAIChatProver(Prover):
    """Asks a model for a proof through the chat or the completions API."""

    name = "openai"

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings
        self.prompts = PromptSource(settings.prompt, settings.prompt_dir, settings.api)
        self.api: Api = self.prompts.api
        self.can_repair = self.prompts.can_repair
        self.stop: tuple[str, ...] = tuple(settings.stop) if settings.stop is not None else self.prompts.stop
        self._client: openai.AsyncOpenAI | None = None
        self._retrying = Retrying(settings)
        # Samples that share one request of n choices: the request by (prompt, group), and how many took theirs.
        self._shared: dict[tuple[Any, ...], asyncio.Future[Fetched]] = {}
        self._taken: dict[tuple[Any, ...], int] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OpenAIChatProver:
        """Validate the settings mapping of a run config."""
        return cls(validate_settings(OpenAISettings, cls.name, settings))

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """Load the prompt templates and make the client (the key is read from the environment)."""
        self.prompts.prepare(suite_problems)
        if self._client is None:
            self._client = async_client(self.settings)

    def preflight(self) -> None:
        """One quick request (the model list, else a one-token completion) before any checker loads."""
        preflight(self.settings, self.api)

    def _request(self, problem: Problem, history: tuple[PreviousAttempt, ...], choices: int, group: int) -> Request:
        """The request of ``group``'s samples: what is asked, and only the sampling parameters set."""
        s = self.settings
        values: dict[str, Any] = {
            "n": choices if s.n is not None else None,
            "seed": s.seed + group if s.seed is not None else None,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "stop": self.stop or None,
        }
        params = tuple((k, values[k]) for k in SAMPLING_KEYS if values[k] is not None)
        extra = tuple(s.extra_body.items())
        if self.api == "completions":
            prompt = self.prompts.prompt(problem, history)
            return Request(api="completions", model=s.model, prompt=prompt, params=params, extra_body=extra)
        messages = self.prompts.chat(problem, history)
        return Request(api="chat", model=s.model, messages=messages, params=params, extra_body=extra)

    def _choices(self, history: tuple[PreviousAttempt, ...]) -> int:
        """Choices per request: samples 0..n-1 of a first round share one (a repair round's prompt is its own)."""
        return self.settings.n if self.settings.n is not None and not history else 1

    def request(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> dict[str, Any]:
        """The request this attempt's reply comes from, as JSON data (the reply cache keys on it and the sample)."""
        if self._client is None:
            self.prepare([problem])
        choices = self._choices(history)
        return self._request(problem, history, choices, sample // choices).body()

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """One choice of a request, retried on transient faults; the proof is extracted from its text."""
        if self._client is None:
            self.prepare([problem])
        assert self._client is not None
        client = self._client
        choices = self._choices(history)
        group, choice = divmod(sample, choices)
        request = self._request(problem, history, choices, group)
        key = (request.api, request.messages, request.prompt, request.params, group)
        started = time.monotonic()
        if key not in self._shared:
            self._shared[key] = asyncio.ensure_future(
                self._retrying.fetch(
                    lambda: send(client, request, self.settings.stream, self.settings.request_timeout_s)
                )
            )
        shared = self._shared[key]
        self._taken[key] = self._taken.get(key, 0) + 1
        if self._taken[key] >= choices:  # every sample of the group has its future: the request is forgotten
            del self._shared[key], self._taken[key]
        fetched = await asyncio.shield(shared)  # one sample cancelled does not cancel the others' request
        seconds = time.monotonic() - started
        first = choice == 0  # the request's tokens, cost and retries are journalled once, with its first choice
        retries = fetched.retries if first else ()
        if fetched.error is not None or fetched.reply is None:
            return ProverOutput(proof=None, error=fetched.error, seconds=seconds, api_retries=retries)
        return self._output(fetched.reply, choice, first, request, problem, seconds, retries)

    def _output(
        self,
        reply: Reply,
        choice: int,
        first: bool,
        request: Request,
        problem: Problem,
        seconds: float,
        retries: tuple[Any, ...],
    ) -> ProverOutput:
        text = reply.texts[choice]  # the answer: a reasoning model's thinking is apart, and no proof is taken from it
        proof = self.prompts.proof(text, problem, request.prompt or "")
        tokens_in, tokens_out, tokens_reasoning = (
            (reply.tokens_in, reply.tokens_out, reply.tokens_reasoning) if first else (0, 0, 0)
        )
        prices = self.settings.prices
        cost = prices.cost(tokens_in, tokens_out, tokens_reasoning) if prices else None
        return ProverOutput(
            proof=proof,
            raw_reply=text,
            reasoning=reply.reasonings[choice] if reply.reasonings else None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            tokens_reasoning=tokens_reasoning,
            cost=cost,
            finish_reason=reply.finish_reasons[choice],
            seconds=seconds,
            api_retries=retries,
        )

    def limit_requests(self, limiter: AdaptiveLimiter) -> None:
        """Each request (each retry too) waits for a place in ``limiter``'s window; a 429 narrows it."""
        self._retrying.limiter = limiter

    def describe(self) -> dict[str, Any]:
        """The settings as used (the API and stop strings resolved), without the key (only the variable's name)."""
        described = {"name": self.name, **self.settings.model_dump(mode="json")}
        described["api"] = self.api
        described["stop"] = list(self.stop) or None
        if self.prompts.preset is not None:
            described["prompt_sources"] = list(self.prompts.preset.manifest.sources)
        return described

    def template_hashes(self) -> dict[str, str]:
        """Hashes of the templates in use (and of a suite's prompt file a preset sends)."""
        return self.prompts.hashes()

    async def aclose(self) -> None:
        """Close the HTTP client; a request some samples never came for is forgotten with its event loop."""
        self._shared.clear()
        self._taken.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
