"""A prover behind any OpenAI-compatible chat completions endpoint.

Transient API faults (429, 5xx, timeouts, lost connections, malformed replies)
are retried with exponential backoff that honours ``Retry-After``; a 401, 403 or
404 stops the run (``ProverUnavailable``); any other 4xx fails that attempt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from provebench.core.errors import RunStopped, UserError
from provebench.core.journal import ApiRetry
from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, ProverUnavailable, validate_settings
from provebench.provers.prompting import PromptTemplates, extract_last_code_block


class Prices(BaseModel):
    """Prices per million tokens, in the currency of the user's choice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(ge=0, description="the price of a million prompt tokens")
    output_per_mtok: float = Field(ge=0, description="the price of a million completion tokens")


class OpenAISettings(BaseModel):
    """Settings of the OpenAI-compatible prover (the ``prover:`` block of a run config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, description="the model, as the endpoint names it")
    base_url: str | None = Field(default=None, description="the endpoint (default: OpenAI's API)")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="the environment variable holding the API key; null: no key"
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature (default: the API's)")
    max_tokens: int | None = Field(default=None, ge=1, description="most tokens of a reply (default: the API's)")
    request_timeout_s: float = Field(default=300.0, gt=0, description="seconds one request may take")
    max_retries: int = Field(
        default=6, ge=0, le=50, description="retries of a request after a transient fault (429, 5xx, lost connection)"
    )
    backoff_initial_s: float = Field(default=1.0, gt=0, description="first wait before a retry (then doubling)")
    backoff_max_s: float = Field(default=60.0, gt=0, description="longest wait before a retry")
    retry_after_max_s: float = Field(default=600.0, gt=0, description="longest wait a server's Retry-After gets")
    prices: Prices | None = Field(default=None, description="prices per million tokens, for the run's cost")
    prompt_dir: Path | None = Field(
        default=None, description="prompt templates, a folder per proof system (default: the bundled ones)"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="more fields for every request's JSON body (the endpoint's own options)"
    )


PREFLIGHT_TIMEOUT_S = 8.0  # a run against a dead endpoint fails within 10 s, before any checker loads


class MalformedReply(Exception):
    """The endpoint answered 2xx with something that is not a chat completion."""


_STOP_RUN = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_TRANSIENT = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    MalformedReply,
)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT):
        return True
    # Some servers send 5xx codes the SDK does not map to InternalServerError (e.g. 529).
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``retry-after``."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {str(exc.message).splitlines()[0][:200]}"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OpenAIChatProver(Prover):
    """Asks a chat model for a proof; the proof is the reply's last fenced code block."""

    name = "openai"

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings
        self._templates: dict[System, PromptTemplates] = {}
        self._client: openai.AsyncOpenAI | None = None
        self._backoff = wait_exponential_jitter(
            multiplier=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_initial_s
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OpenAIChatProver:
        """Validate the settings mapping of a run config."""
        return cls(validate_settings(OpenAISettings, cls.name, settings))

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """Load the prompt templates and make the client (the key is read from the environment)."""
        for system in {p.system for p in suite_problems}:
            if system not in self._templates:
                templates = PromptTemplates.for_system(system, self.settings.prompt_dir)
                # A first round rendered now: a template that cannot render (refused code, an unknown
                # value) is said before any request is sent or any checker starts.
                templates.render(next(p for p in suite_problems if p.system is system), ())
                self._templates[system] = templates
        if self._client is None:
            key_env = self.settings.api_key_env
            key = os.environ.get(key_env) if key_env else "unused"
            if not key:
                raise UserError(f"prover openai: the environment variable {key_env} (api_key_env) is not set")
            self._client = openai.AsyncOpenAI(
                api_key=key,
                base_url=self.settings.base_url,
                max_retries=0,  # retries are ours, so that each one is journalled
                timeout=self.settings.request_timeout_s,
            )

    def preflight(self) -> None:
        """One quick request (the model list, else a one-token completion) before any checker loads."""
        s = self.settings
        where = s.base_url or "https://api.openai.com/v1"
        key_env = s.api_key_env
        client = openai.OpenAI(
            api_key=os.environ.get(key_env, "") if key_env else "unused",
            base_url=s.base_url,
            max_retries=0,
            timeout=PREFLIGHT_TIMEOUT_S,
        )
        try:
            try:
                served = [m.id for m in client.models.list()]
            except openai.NotFoundError:  # some servers have no model list: ask the model itself
                client.chat.completions.create(
                    model=s.model, messages=[{"role": "user", "content": "ping"}], max_tokens=1
                )
                return
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise RunStopped(f"prover openai: {where} refused the key in {key_env}: {_describe(exc)}") from None
        except openai.NotFoundError as exc:
            raise RunStopped(f"prover openai: {where} does not serve model {s.model!r}: {_describe(exc)}") from None
        except openai.APIError as exc:
            raise RunStopped(f"prover openai: {where} does not answer: {_describe(exc)}") from None
        finally:
            client.close()
        if served and s.model not in served:
            listed = ", ".join(served[:5]) + (", ..." if len(served) > 5 else "")
            raise RunStopped(f"prover openai: {where} does not serve model {s.model!r} (it serves: {listed})")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(exc) if exc is not None else None
        if asked is not None:
            return min(asked, self.settings.retry_after_max_s)
        return float(self._backoff(state))

    def request(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> dict[str, Any]:
        """The chat request of this attempt: model, messages and the sampling parameters set (the cache's key)."""
        if self._client is None or problem.system not in self._templates:
            self.prepare([problem])
        s = self.settings
        prompt = self._templates[problem.system].render(problem, history)
        body: dict[str, Any] = {
            "model": s.model,
            "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
        }
        if s.temperature is not None:
            body["temperature"] = s.temperature
        if s.max_tokens is not None:
            body["max_tokens"] = s.max_tokens
        if s.extra_body:
            body["extra_body"] = s.extra_body
        return body

    async def _complete(self, request: dict[str, Any]) -> Any:
        assert self._client is not None
        body = dict(request)
        raw = await self._client.chat.completions.with_raw_response.create(
            extra_body=body.pop("extra_body", None), **body
        )
        try:
            completion = raw.parse()
            if not completion.choices:
                raise MalformedReply("the reply has no choices")
            return completion
        except MalformedReply:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse failure of a 2xx reply is a malformed reply
            raise MalformedReply(f"the reply is not a chat completion: {type(exc).__name__}") from exc

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """One chat completion, retried on transient faults; the last code block is the proof."""
        request = self.request(problem, sample, history)
        retries: list[ApiRetry] = []

        def record(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            retries.append(ApiRetry(error=_describe(exc) if exc else "unknown", wait_seconds=round(wait, 3)))

        started = time.monotonic()
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_transient),
                stop=stop_after_attempt(self.settings.max_retries + 1),
                wait=self._wait,
                before_sleep=record,
                reraise=True,
            ):
                with attempt:
                    completion = await self._complete(request)
        except _STOP_RUN as exc:
            raise ProverUnavailable(f"{self.settings.base_url or 'api.openai.com'}: {_describe(exc)}") from None
        except openai.APIStatusError as exc:
            if _is_transient(exc):
                raise ProverUnavailable(f"gave up after {len(retries)} retries: {_describe(exc)}") from None
            return ProverOutput(
                proof=None, error=_describe(exc), seconds=time.monotonic() - started, api_retries=tuple(retries)
            )
        except _TRANSIENT as exc:
            raise ProverUnavailable(f"gave up after {len(retries)} retries: {_describe(exc)}") from None
        return self._output(completion, time.monotonic() - started, tuple(retries))

    def _output(self, completion: Any, seconds: float, retries: tuple[ApiRetry, ...]) -> ProverOutput:
        choice = completion.choices[0]
        text = choice.message.content or ""
        usage = completion.usage
        tokens_in = int(usage.prompt_tokens) if usage else 0
        tokens_out = int(usage.completion_tokens) if usage else 0
        prices = self.settings.prices
        cost = (
            round((tokens_in * prices.input_per_mtok + tokens_out * prices.output_per_mtok) / 1e6, 8)
            if prices
            else None
        )
        return ProverOutput(
            proof=extract_last_code_block(text),
            raw_reply=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=cost,
            finish_reason=choice.finish_reason,
            seconds=seconds,
            api_retries=retries,
        )

    def describe(self) -> dict[str, Any]:
        """The settings, without the key (only the variable's name)."""
        return {"name": self.name, **self.settings.model_dump(mode="json")}

    def template_hashes(self) -> dict[str, str]:
        """Hashes of the templates in use."""
        return {k: v for t in self._templates.values() for k, v in t.hashes.items()}

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None
