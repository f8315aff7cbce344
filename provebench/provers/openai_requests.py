"""The two APIs a prover model is asked through: chat (messages) and completions (one raw prompt).

Each builds the request body from what the user set and nothing else, and reads the reply's choices
(``message.content`` of a chat completion, ``text`` of a text completion), its finish reasons and usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openai

from provebench.provers.openai_settings import Api
from provebench.provers.openai_transport import MalformedReply


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
    tokens_out: int


async def send(client: openai.AsyncOpenAI, request: Request) -> Reply:
    """Send ``request``; a 2xx reply that is not a completion of its API raises ``MalformedReply``."""
    params = dict(request.params)
    extra = dict(request.extra_body) or None
    if request.api == "completions":
        raw: Any = await client.completions.with_raw_response.create(
            model=request.model, prompt=request.prompt, extra_body=extra, **params
        )
    else:
        messages: Any = [{"role": role, "content": content} for role, content in request.messages]
        raw = await client.chat.completions.with_raw_response.create(
            model=request.model, messages=messages, extra_body=extra, **params
        )
    try:
        completion = raw.parse()
        return _read(completion, request)
    except MalformedReply:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of a 2xx reply is a malformed reply
        kind = "text completion" if request.api == "completions" else "chat completion"
        raise MalformedReply(f"the reply is not a {kind}: {type(exc).__name__}") from exc


def _read(completion: Any, request: Request) -> Reply:
    choices = sorted(completion.choices or (), key=lambda c: int(c.index))
    if not choices:
        raise MalformedReply("the reply has no choices")
    if [int(c.index) for c in choices] != list(range(len(choices))) or len(choices) < request.choices:
        raise MalformedReply(f"the reply has {len(choices)} choices for n={request.choices}")
    if request.api == "completions":
        texts = tuple(str(c.text or "") for c in choices)
    else:
        texts = tuple(str(c.message.content or "") for c in choices)
    usage = completion.usage
    return Reply(
        texts=texts,
        finish_reasons=tuple(c.finish_reason for c in choices),
        tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
        tokens_out=int(usage.completion_tokens or 0) if usage else 0,
    )
