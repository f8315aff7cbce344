"""The two APIs a prover model is asked through: chat (messages) and completions (one raw prompt).

Each builds the request body from what the user set and nothing else, and reads the reply's choices
(``message.content`` of a chat completion, ``text`` of a text completion), its finish reasons and usage.
A reasoning model's thinking (``reasoning_content``, as vLLM and DeepSeek send it, or ``reasoning``, vLLM's
newer name) is read apart from the answer, and its token count from ``usage.completion_tokens_details``.
A streamed request (``stream: true``) is assembled from its chunks (``choices[].delta``, or ``text`` of
a completion chunk), its usage taken from the last chunk, which ``stream_options.include_usage`` asks for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import openai

from provebench.provers.openai_settings import Api
from provebench.provers.openai_transport import MalformedReply, RequestTimedOut


@dataclass(frozen=True)
class Request:
    """One request: the API, what it is asked (messages or a prompt) and the sampling parameters sent."""

    api: Api
    model: str
    messages: tuple[tuple[str, str], ...] = ()  # (role, content), for chat
    prompt: str = ""  # for completions
    params: tuple[tuple[str, Any], ...] = ()  # the sampling parameters set, in the order sent
    extra_body: tuple[tuple[str, Any], ...] = ()

    @property
    def choices(self) -> int:
        """How many choices the reply must hold."""
        return int(dict(self.params).get("n", 1))

    def body(self) -> dict[str, Any]:
        """The request as JSON data: its API, and the body its endpoint is sent (the reply cache keys on this)."""
        asked: dict[str, Any] = (
            {"prompt": self.prompt}
            if self.api == "completions"
            else {"messages": [{"role": role, "content": content} for role, content in self.messages]}
        )
        extra = {"extra_body": dict(self.extra_body)} if self.extra_body else {}
        return {"api": self.api, "model": self.model, **asked, **dict(self.params), **extra}


@dataclass(frozen=True)
class Reply:
    """The choices of a reply, by index, and the request's usage."""

    texts: tuple[str, ...]
    finish_reasons: tuple[str | None, ...]
    tokens_in: int
    tokens_out: int  # every completion token, the reasoning's included
    reasonings: tuple[str | None, ...] = ()  # each choice's thinking, where the endpoint sends it apart
    tokens_reasoning: int = 0  # how many of tokens_out were reasoning, where the API says


async def send(client: openai.AsyncOpenAI, request: Request, stream: bool = False, timeout_s: float = 0.0) -> Reply:
    """Send ``request``; a 2xx reply that is not a completion of its API raises ``MalformedReply``.

    A streamed request is bounded as a whole by ``timeout_s`` (when set), from its sending to its last
    chunk: the client's own timeout, which bounds a whole request, bounds only each wait for the next chunk.
    """
    if not stream:
        return await _whole(client, request)
    try:
        async with asyncio.timeout(timeout_s or None):
            return await _streamed(client, request)
    except TimeoutError:
        raise RequestTimedOut(f"no whole reply within request_timeout_s ({timeout_s:g} s)") from None


async def _whole(client: openai.AsyncOpenAI, request: Request) -> Reply:
    params = dict(request.params)
    extra = dict(request.extra_body) or None
    if request.api == "completions":
        raw: Any = await client.completions.with_raw_response.create(
            model=request.model, prompt=request.prompt, extra_body=extra, **params
        )
    else:
        raw = await client.chat.completions.with_raw_response.create(
            model=request.model, messages=_messages(request), extra_body=extra, **params
        )
    try:
        completion = raw.parse()
        return _read(completion, request)
    except MalformedReply:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of a 2xx reply is a malformed reply
        raise MalformedReply(f"the reply is not a {_kind(request)}: {type(exc).__name__}") from exc


def _messages(request: Request) -> Any:
    return [{"role": role, "content": content} for role, content in request.messages]


def _kind(request: Request) -> str:
    return "text completion" if request.api == "completions" else "chat completion"


def _reasoning(message: Any) -> str | None:
    """The thinking a chat message or delta carries apart from its content (an extra field to the SDK)."""
    for field in ("reasoning_content", "reasoning"):
        value = getattr(message, field, None)
        if isinstance(value, str):
            return value
    return None


def _usage(usage: Any) -> tuple[int, int, int]:
    """(prompt, completion, reasoning) tokens of a usage object; zeros for what it does not say."""
    if usage is None:
        return 0, 0, 0
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) or getattr(usage, "reasoning_tokens", None) or 0
    return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0), int(reasoning)


def _read(completion: Any, request: Request) -> Reply:
    choices = sorted(completion.choices or (), key=lambda c: int(c.index))
    if not choices:
        raise MalformedReply("the reply has no choices")
    if [int(c.index) for c in choices] != list(range(len(choices))) or len(choices) < request.choices:
        raise MalformedReply(f"the reply has {len(choices)} choices for n={request.choices}")
    if request.api == "completions":
        texts = tuple(str(c.text or "") for c in choices)
        reasonings: tuple[str | None, ...] = (None,) * len(choices)
    else:
        texts = tuple(str(c.message.content or "") for c in choices)
        reasonings = tuple(_reasoning(c.message) for c in choices)
    tokens_in, tokens_out, tokens_reasoning = _usage(completion.usage)
    return Reply(
        texts=texts,
        finish_reasons=tuple(c.finish_reason for c in choices),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        reasonings=reasonings,
        tokens_reasoning=tokens_reasoning,
    )


async def _streamed(client: openai.AsyncOpenAI, request: Request) -> Reply:
    """The reply assembled from a stream of chunks; one that ends before every choice has, is malformed."""
    params = dict(request.params)
    extra = dict(request.extra_body) or None
    options: Any = {"include_usage": True}
    if request.api == "completions":
        stream: Any = await client.completions.create(
            model=request.model, prompt=request.prompt, extra_body=extra, stream=True, stream_options=options, **params
        )
    else:
        stream = await client.chat.completions.create(
            model=request.model,
            messages=_messages(request),
            extra_body=extra,
            stream=True,
            stream_options=options,
            **params,
        )
    texts: dict[int, list[str]] = {}
    thoughts: dict[int, list[str]] = {}
    finished: dict[int, str | None] = {}
    usage: Any = None
    try:
        async with stream:
            async for chunk in stream:
                usage = chunk.usage or usage
                for c in chunk.choices or ():
                    i = int(c.index)
                    if request.api == "completions":
                        piece, thought = c.text, None
                    else:
                        piece, thought = c.delta.content, _reasoning(c.delta)
                    texts.setdefault(i, []).append(piece or "")
                    thoughts.setdefault(i, [])
                    if thought:
                        thoughts[i].append(thought)
                    if c.finish_reason is not None:
                        finished[i] = c.finish_reason
    except (openai.APIStatusError, asyncio.CancelledError):
        raise
    except openai.APIError as exc:  # an error event in the stream
        raise MalformedReply(f"the stream ended in an error: {str(exc).splitlines()[0][:200]}") from exc
    except (ValueError, TypeError, AttributeError) as exc:  # a chunk that does not parse, or is no chunk
        raise MalformedReply(f"the stream is not of {_kind(request)} chunks: {type(exc).__name__}") from exc
    except Exception as exc:  # noqa: BLE001 - the connection's faults (the HTTP library's own exceptions)
        raise MalformedReply(f"the stream broke off: {type(exc).__name__}") from exc
    indices = sorted(texts)
    if indices != list(range(len(indices))) or len(indices) < request.choices:
        raise MalformedReply(f"the stream has {len(indices)} choices for n={request.choices}")
    if set(finished) != set(indices):
        raise MalformedReply("the stream ended before its choices did")
    tokens_in, tokens_out, tokens_reasoning = _usage(usage)
    return Reply(
        texts=tuple("".join(texts[i]) for i in indices),
        finish_reasons=tuple(finished[i] for i in indices),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        reasonings=tuple("".join(thoughts[i]) if thoughts[i] else None for i in indices),
        tokens_reasoning=tokens_reasoning,
    )
