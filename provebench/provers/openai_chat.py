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

from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, validate_settings
from provebench.provers.extraction import extract, extract_last_code_block
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.openai_requests import Reply, Request, send
from provebench.provers.openai_settings import SAMPLING_KEYS, Api, OpenAISettings, Prices
from provebench.provers.openai_transport import Fetched, Retrying, async_client, preflight
from provebench.provers.presets import Preset, load_preset
from provebench.provers.prompting import PromptTemplates
from provebench.provers.suite_prompts import SuitePrompt

__all__ = ["OpenAIChatProver", "OpenAISettings", "Prices"]


class OpenAIChatProver(Prover):
    """Asks a model for a proof through the chat or the completions API."""

    name = "openai"

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings
        self.preset: Preset | None = load_preset(settings.prompt) if settings.prompt else None
        self.api: Api = settings.api or (self.preset.manifest.api if self.preset else "chat")
        if self.preset is not None:
            self.preset.check_api(self.api)
            # A preset renders its model's documented first-round prompt; none documents a repair round.
            self.can_repair = False
        self.stop: tuple[str, ...] = tuple(
            settings.stop if settings.stop is not None else (self.preset.manifest.stop if self.preset else ())
        )
        self._templates: dict[System, PromptTemplates | SuitePrompt] = {}
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
        for system in {p.system for p in suite_problems}:
            if system in self._templates:
                continue
            templates: PromptTemplates | SuitePrompt
            if self.preset is not None:
                self.preset.check_system(system)
                templates = self.preset.prompter(self.api)
            else:
                templates = PromptTemplates.for_system(system, self.settings.prompt_dir, self.api)
            # A first round rendered now: a template that cannot render (refused code, an unknown value),
            # or a suite without the prompt file a preset names, is said before any request or checker starts.
            templates.render_first(next(p for p in suite_problems if p.system is system))
            self._templates[system] = templates
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
        templates = self._templates[problem.system]
        extra = tuple(s.extra_body.items())
        if self.api == "completions":
            prompt = templates.render_prompt(problem, history)
            return Request(api="completions", model=s.model, prompt=prompt, params=params, extra_body=extra)
        rendered = templates.render(problem, history)
        # An empty system template sends no system message (DeepSeek's and Goedel's cards send none).
        messages: tuple[tuple[str, str], ...] = (("system", rendered.system),) if rendered.system else ()
        messages += (("user", rendered.user),)
        return Request(api="chat", model=s.model, messages=messages, params=params, extra_body=extra)

    def _choices(self, history: tuple[PreviousAttempt, ...]) -> int:
        """Choices per request: samples 0..n-1 of a first round share one (a repair round's prompt is its own)."""
        return self.settings.n if self.settings.n is not None and not history else 1

    def request(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> dict[str, Any]:
        """The request this attempt's reply comes from, as JSON data (the reply cache keys on it and the sample)."""
        if self._client is None or problem.system not in self._templates:
            self.prepare([problem])
        choices = self._choices(history)
        return self._request(problem, history, choices, sample // choices).body()

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """One choice of a request, retried on transient faults; the proof is extracted from its text."""
        if self._client is None or problem.system not in self._templates:
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
        if self.preset is not None:
            proof = extract(self.preset.manifest.extract, text, request.prompt, problem.context)
        else:
            proof = extract_last_code_block(text)
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
        if self.preset is not None:
            described["prompt_sources"] = list(self.preset.manifest.sources)
        return described

    def template_hashes(self) -> dict[str, str]:
        """Hashes of the templates in use (and of a suite's prompt file a preset sends)."""
        return {k: v for t in self._templates.values() for k, v in t.hashes.items()}

    async def aclose(self) -> None:
        """Close the HTTP client; a request some samples never came for is forgotten with its event loop."""
        self._shared.clear()
        self._taken.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
