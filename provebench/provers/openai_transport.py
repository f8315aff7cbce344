"""Talking to an OpenAI-compatible endpoint: the client, retries, and what each fault means.

Transient API faults (429, 5xx, timeouts, lost connections, malformed replies)
are retried with exponential backoff that honours ``Retry-After``; a 401, 403 or
404 stops the run (``ProverUnavailable``); any other 4xx fails that attempt. Each
request waits for a place in the run's adaptive window (``limiter``), which a 429
narrows; a retry's wait holds no place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from provebench.core.errors import RunStopped, UserError
from provebench.core.journal import ApiRetry
from provebench.provers.api import ProverUnavailable
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.openai_settings import Api, OpenAISettings

PREFLIGHT_TIMEOUT_S = 8.0  # a run against a dead endpoint fails within 10 s, before any checker loads


class MalformedReply(Exception):
    """The endpoint answered 2xx with something that is not a completion of the API asked."""


class RequestTimedOut(Exception):
    """A request (a streamed one too, whose chunks keep coming) outlasted ``request_timeout_s``."""


_STOP_RUN = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_TRANSIENT = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    MalformedReply,
    RequestTimedOut,
)


def is_transient(exc: BaseException) -> bool:
    """Whether a retry may help."""
    if isinstance(exc, _TRANSIENT):
        return True
    # Some servers send 5xx codes the SDK does not map to InternalServerError (e.g. 529).
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def retry_after(exc: BaseException) -> float | None:
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


def describe(exc: BaseException) -> str:
    """One line for a fault: the HTTP status and the server's message, or the exception's name and text."""
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {str(exc.message).splitlines()[0][:200]}"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def endpoint(settings: OpenAISettings) -> str:
    """Where requests go, for messages."""
    return settings.base_url or "https://api.openai.com/v1"


def key_from_env(key_env: str | None, prover: str) -> str:
    """The key from the environment variable ``key_env`` ("unused" when none is named)."""
    key = os.environ.get(key_env) if key_env else "unused"
    if not key:
        raise UserError(f"prover {prover}: the environment variable {key_env} (api_key_env) is not set")
    return key


def api_key(settings: OpenAISettings) -> str:
    """The key from the environment variable the settings name ("unused" when they name none)."""
    return key_from_env(settings.api_key_env, "openai")


def async_client(settings: OpenAISettings) -> openai.AsyncOpenAI:
    """The client of a run; the SDK's own retries are off, so that each retry is ours and journalled."""
    return openai.AsyncOpenAI(
        api_key=api_key(settings), base_url=settings.base_url, max_retries=0, timeout=settings.request_timeout_s
    )


@dataclass(frozen=True)
class Fetched:
    """What one request came to: the parsed reply, or the error that failed this attempt, with its retries."""

    reply: Any
    error: str | None
    seconds: float
    retries: tuple[ApiRetry, ...]


class Retrying:
    """Sends a request until it succeeds, fails for good, or the retry budget is spent."""

    def __init__(self, settings: OpenAISettings, limiter: AdaptiveLimiter | None = None) -> None:
        self.settings = settings
        # Without a run's window (a prover used alone): as many requests at once as a run may ever allow.
        self.limiter = limiter or AdaptiveLimiter(1024)
        self._backoff = wait_exponential_jitter(
            multiplier=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_initial_s
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc) if exc is not None else None
        if asked is not None:
            return min(asked, self.settings.retry_after_max_s)
        return float(self._backoff(state))

    async def fetch(self, send: Callable[[], Awaitable[Any]]) -> Fetched:
        """``send()`` retried on transient faults; a 4xx other than 401/403/404 is this attempt's error."""
        retries: list[ApiRetry] = []

        def record(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            retries.append(ApiRetry(error=describe(exc) if exc else "unknown", wait_seconds=round(wait, 3)))

        started = time.monotonic()
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_transient),
                stop=stop_after_attempt(self.settings.max_retries + 1),
                wait=self._wait,
                before_sleep=record,
                reraise=True,
            ):
                with attempt:
                    async with self.limiter.slot() as slot:
                        try:
                            reply = await send()
                        except openai.RateLimitError:
                            slot.throttled()
                            raise
                        slot.succeeded()
        except _STOP_RUN as exc:
            raise ProverUnavailable(f"{self.settings.base_url or 'api.openai.com'}: {describe(exc)}") from None
        except openai.APIStatusError as exc:
            if is_transient(exc):
                raise ProverUnavailable(f"gave up after {len(retries)} retries: {describe(exc)}") from None
            return Fetched(None, describe(exc), time.monotonic() - started, tuple(retries))
        except _TRANSIENT as exc:
            raise ProverUnavailable(f"gave up after {len(retries)} retries: {describe(exc)}") from None
        return Fetched(reply, None, time.monotonic() - started, tuple(retries))


def preflight(settings: OpenAISettings, api: Api) -> None:
    """One quick request (the model list, else a one-token completion) before any checker loads."""
    where, key_env = endpoint(settings), settings.api_key_env
    client = openai.OpenAI(
        api_key=os.environ.get(key_env, "") if key_env else "unused",
        base_url=settings.base_url,
        max_retries=0,
        timeout=PREFLIGHT_TIMEOUT_S,
    )
    try:
        try:
            served = [m.id for m in client.models.list()]
        except openai.NotFoundError:  # some servers have no model list: ask the model itself
            if api == "completions":
                client.completions.create(model=settings.model, prompt="ping", max_tokens=1)
            else:
                client.chat.completions.create(
                    model=settings.model, messages=[{"role": "user", "content": "ping"}], max_tokens=1
                )
            return
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise RunStopped(f"prover openai: {where} refused the key in {key_env}: {describe(exc)}") from None
    except openai.NotFoundError as exc:
        raise RunStopped(f"prover openai: {where} does not serve model {settings.model!r}: {describe(exc)}") from None
    except openai.APIError as exc:
        raise RunStopped(f"prover openai: {where} does not answer: {describe(exc)}") from None
    finally:
        client.close()
    if served and settings.model not in served:
        listed = ", ".join(served[:5]) + (", ..." if len(served) > 5 else "")
        raise RunStopped(f"prover openai: {where} does not serve model {settings.model!r} (it serves: {listed})")
