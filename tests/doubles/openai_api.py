"""A double of a remote OpenAI-compatible API, served on 127.0.0.1: chat completions and text completions.

It speaks the real wire protocol of ``POST /v1/chat/completions`` (OpenAI's ``chat.completion`` object:
``choices[].message``, ``finish_reason``, ``usage``; error bodies ``{"error": {"message", "type",
"param", "code"}}``) and of ``POST /v1/completions`` as vLLM's OpenAI-compatible server sends it
(``text_completion``: ``choices[].text``, ``finish_reason`` and vLLM's ``stop_reason``, ``logprobs``,
``prompt_logprobs``, ``token_ids``, ``prompt_token_ids``; ``usage`` with ``prompt_tokens_details``;
``service_tier``, ``system_fingerprint``, ``kv_transfer_params``; errors with the HTTP status as an
integer ``code``), with bearer-key auth and the real status codes. Both honour ``n`` (that many
choices, the usage summed over them), ``max_tokens`` (a reply cut there ends with ``length``) and
``stop`` (a reply ends before the first stop string, which it leaves out, as vLLM does). A token is a
run of non-space characters with the spaces after it.

A reasoning model: given ``reason``, each chat choice carries its thinking apart from its content, in
``message.reasoning_content`` (``reasoning_field``; vLLM's newer name is ``reasoning``), and the usage
counts it in ``completion_tokens`` and in ``completion_tokens_details.reasoning_tokens``, as OpenAI's does.

Streaming (``"stream": true``), as vLLM's server streams: server-sent events ``data: {json}``, one
token per chunk; a chat chunk (``chat.completion.chunk``) opens each choice with ``delta`` ``{"role":
"assistant", "content": ""}``, then carries ``delta.reasoning_content`` or ``delta.content``, the last
one the choice's ``finish_reason`` (and ``stop_reason``); a completion chunk (``text_completion``)
carries ``text``. With ``stream_options.include_usage`` every chunk has ``"usage": null`` and a last
chunk with no choices has the usage. Then ``data: [DONE]``.

Faults are scripted per request, in order: ``"429"`` (with ``Retry-After``), ``"500"``, ``"slow"``
(answers after the client gave up; streamed, its chunks trickle in over ``slow_s``, each soon after
the last), ``"malformed"`` (a 200 whose body is not JSON, or a stream whose chunk is not), ``"cut"``
(a stream that breaks off before its choices end), ``"nocode"`` (a reply with no code block),
``"400"``, ``"401"``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-double-test-key"
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
_TOKEN = re.compile(r"\s*\S+\s*|\s+")


def _statement(user_message: str) -> str | None:
    m = re.search(r"(?<!`)`([^`\n]+)`(?!`)", user_message)  # a backquoted goal, not a code fence
    return m.group(1) if m else None


def tokens(text: str) -> int:
    """How many tokens the double counts in ``text``."""
    return len(_TOKEN.findall(text))


def _sampled(text: str, request: dict[str, Any]) -> tuple[str, str, str | None]:
    """(text, finish_reason, stop_reason) after ``max_tokens`` and ``stop``, as vLLM ends a reply."""
    stops = request.get("stop") or []
    stops = [stops] if isinstance(stops, str) else stops
    hits = [(text.find(s), s) for s in stops if s in text]
    stopped = min(hits) if hits else None
    if stopped is not None:
        text = text[: stopped[0]]
    limit = request.get("max_tokens")
    pieces = _TOKEN.findall(text)
    if limit is not None and len(pieces) > limit:
        return "".join(pieces[:limit]), "length", None
    return text, "stop", stopped[1] if stopped else None


class OpenAIApiDouble:
    """Serves canned replies: ``answer(statement, prompt)`` gives each choice's text (the user message, for chat)."""

    def __init__(
        self,
        answer: Callable[[str, str], str],
        faults: list[str] | None = None,
        model: str = "double-model",
        retry_after_s: float = 0.2,
        slow_s: float = 2.0,
        exempt: frozenset[str] = frozenset(),
        reason: Callable[[str, str], str] | None = None,
        reasoning_field: str = "reasoning_content",
    ) -> None:
        self.answer = answer
        self.reason = reason  # a reasoning model's thinking before each chat answer
        self.reasoning_field = reasoning_field
        self.faults = list(faults or [])
        self.model = model
        self.retry_after_s = retry_after_s
        self.slow_s = slow_s
        self.exempt = exempt  # goals whose requests never get a fault
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []  # the route of each request in ``requests``
        self.served_faults: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The ``/v1`` root to give the client."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIApiDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> str | None:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault:
                self.served_faults.append(fault)
            return fault

    def _thinking(self, statement: str, asked: str) -> str | None:
        return self.reason(statement, asked) if self.reason is not None else None

    def _chat_body(
        self, request: dict[str, Any], texts: list[tuple[str, str, str | None]], asked: str, thought: str | None
    ) -> Any:
        message: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": i,
                    "message": message
                    | {"content": text}
                    | ({self.reasoning_field: thought} if thought is not None else {}),
                    "logprobs": None,
                    "finish_reason": finish,
                }
                for i, (text, finish, _) in enumerate(texts)
            ],
            "usage": self._usage(asked, texts, vllm=False, thought=thought),
        }

    def _completions_body(
        self, request: dict[str, Any], texts: list[tuple[str, str, str | None]], asked: str, _thought: str | None
    ) -> Any:
        return {  # vLLM's CompletionResponse, every field it sends
            "id": f"cmpl-{len(self.requests):032x}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": i,
                    "text": text,
                    "logprobs": None,
                    "finish_reason": finish,
                    "stop_reason": stop_reason,
                    "token_ids": None,
                    "prompt_logprobs": None,
                    "prompt_token_ids": None,
                }
                for i, (text, finish, stop_reason) in enumerate(texts)
            ],
            "service_tier": None,
            "system_fingerprint": None,
            "usage": self._usage(asked, texts, vllm=True),
            "kv_transfer_params": None,
        }

    @staticmethod
    def _usage(
        asked: str, texts: list[tuple[str, str, str | None]], vllm: bool, thought: str | None = None
    ) -> dict[str, Any]:
        thinking = tokens(thought) * len(texts) if thought is not None else 0
        out = sum(tokens(t) for t, _, _ in texts) + thinking
        usage: dict[str, Any] = {"prompt_tokens": tokens(asked), "total_tokens": tokens(asked) + out}
        usage["completion_tokens"] = out
        if vllm:
            usage["prompt_tokens_details"] = None
        if thought is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": thinking}
        return usage

    def _chunks(
        self, request: dict[str, Any], texts: list[tuple[str, str, str | None]], asked: str, thought: str | None
    ) -> list[dict[str, Any]]:
        """The stream's chunks, as vLLM sends them: each choice token by token, then the usage if asked."""
        chat = request.get("messages") is not None
        with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        head: dict[str, Any] = {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{len(self.requests)}",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.model,
        }
        chunks: list[dict[str, Any]] = []

        def choice(i: int, piece: dict[str, Any], finish: str | None = None, stop: str | None = None) -> None:
            one: dict[str, Any] = {"index": i, **piece, "logprobs": None, "finish_reason": finish}
            if finish is not None or not chat:
                one["stop_reason"] = stop
            chunks.append(head | {"choices": [one]} | ({"usage": None} if with_usage else {}))

        for i, (text, finish, stop) in enumerate(texts):
            pieces = _TOKEN.findall(text) or [""]
            if chat:
                choice(i, {"delta": {"role": "assistant", "content": ""}})
                for t in _TOKEN.findall(thought or ""):
                    choice(i, {"delta": {self.reasoning_field: t}})
                for t in pieces[:-1]:
                    choice(i, {"delta": {"content": t}})
                choice(i, {"delta": {"content": pieces[-1]}}, finish, stop)
            else:
                for t in pieces[:-1]:
                    choice(i, {"text": t})
                choice(i, {"text": pieces[-1]}, finish, stop)
        if with_usage:
            chunks.append(head | {"choices": [], "usage": self._usage(asked, texts, vllm=False, thought=thought)})
        return chunks

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout fault)

            def _error(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
                # OpenAI's code is a string or null; vLLM's is the HTTP status.
                code = status if self.path.rstrip("/") == COMPLETIONS else None
                body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
                self._send(status, json.dumps(body).encode(), headers)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.rstrip("/") != "/v1/models":  # GET /v1/models: the list of models, as OpenAI's
                    self._error(404, f"no route {self.path}", "invalid_request_error")
                    return
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error")
                    return
                model = {"id": double.model, "object": "model", "created": 0, "owned_by": "double"}
                self._send(200, json.dumps({"object": "list", "data": [model]}).encode())

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.rstrip("/")
                if path not in (CHAT, COMPLETIONS):
                    self._error(404, f"no route {self.path}", "invalid_request_error")
                    return
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error")
                    return
                if request.get("model") != double.model:
                    kind = "NotFoundError" if path == COMPLETIONS else "invalid_request_error"
                    self._error(404, f"The model `{request.get('model')}` does not exist.", kind)
                    return
                with double._lock:
                    double.requests.append(request)
                    double.paths.append(path)
                if path == CHAT:
                    asked = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
                else:
                    asked = request["prompt"]
                statement = _statement(asked) or ""
                fault = None if statement in double.exempt else double._next_fault()
                if self._fault(fault):
                    return
                if fault == "malformed" and not request.get("stream"):
                    self._send(200, b'{"id": "cmpl-x", "object": "text_completion", "choices": [')
                    return
                texts = [
                    _sampled("I cannot prove this." if fault == "nocode" else double.answer(statement, asked), request)
                    for _ in range(int(request.get("n") or 1))
                ]
                thought = double._thinking(statement, asked) if path == CHAT else None
                if request.get("stream"):
                    self._stream(double._chunks(request, texts, asked, thought), fault)
                    return
                if fault == "slow":
                    time.sleep(double.slow_s)
                make = double._chat_body if path == CHAT else double._completions_body
                self._send(200, json.dumps(make(request, texts, asked, thought)).encode())

            def _stream(self, chunks: list[dict[str, Any]], fault: str | None) -> None:
                """Server-sent events, one chunk each, then ``[DONE]`` (a fault: a bad chunk, a break, a trickle)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.end_headers()
                events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]
                if fault == "malformed":
                    events = [*events[:2], b'data: {"id": "chatcmpl-x", "choices": [\n\n']
                elif fault == "cut":
                    events = events[: len(events) // 2]
                try:
                    for event in events:
                        self.wfile.write(event)
                        self.wfile.flush()
                        if fault == "slow":
                            time.sleep(double.slow_s / len(events))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up

            def _fault(self, fault: str | None) -> bool:
                """Answer a scripted HTTP fault; whether one was answered."""
                if fault == "429":
                    self._error(429, "Rate limit reached.", "requests", {"Retry-After": str(double.retry_after_s)})
                elif fault == "500":
                    self._error(500, "The server had an error while processing your request.", "server_error")
                elif fault == "400":
                    self._error(400, "This model's maximum context length is exceeded.", "invalid_request_error")
                elif fault == "401":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error")
                else:
                    return False
                return True

        return Handler


def fenced(proof: str) -> str:
    """A model-like reply whose last code block is ``proof``."""
    return f"Let me think.\n```ocaml\nARITH_TAC (* a first idea *)\n```\nBetter:\n```ocaml\n{proof}\n```\n"


def prover_settings(double: OpenAIApiDouble, **extra: object) -> dict[str, object]:
    """The ``openai`` prover's settings for this double: its key variable, short timeouts and backoffs."""
    return {
        "model": double.model,
        "base_url": double.base_url,
        "api_key_env": "DOUBLE_API_KEY",
        "request_timeout_s": 0.5,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "max_retries": 4,
        **extra,
    }
