"""A double of OpenAI's chat completions endpoint for a tool-calling model, answering from a script.

The remote API cannot be reached from here. What it speaks is held to the OpenAI API's own published
shapes, as the ``openai`` package generates them from the API's specification: every request is validated
as ``CompletionCreateParamsNonStreaming`` (and as the API refuses them: a tool message must answer a call of
the assistant message before it, every call must be answered before the conversation goes on), and every
reply is a ``ChatCompletion`` before it is sent. A script decides each reply from the messages so far.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from openai.types.chat import ChatCompletion
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from pydantic import TypeAdapter

Turn = dict[str, Any]  # {"say": text} or {"calls": [(name, arguments), ...]} (and "say" beside calls)
Script = Callable[[list[dict[str, Any]]], Turn]

_REQUEST = TypeAdapter(CompletionCreateParamsNonStreaming)
_ids = count(1)


def _check_conversation(messages: list[dict[str, Any]]) -> str | None:
    """What the real API refuses in a conversation with tool calls (as a 400), or None."""
    pending: set[str] = set()
    for m in messages:
        role = m.get("role")
        if role == "tool":
            if m.get("tool_call_id") not in pending:
                return "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'"
            pending.discard(m["tool_call_id"])
            continue
        if pending:
            return "An assistant message with 'tool_calls' must be followed by tool messages responding to each"
        if role == "assistant":
            pending = {c["id"] for c in m.get("tool_calls") or []}
    return None


def tool_result(messages: list[dict[str, Any]], back: int = 1) -> Any:
    """The JSON of the ``back``-th last tool message (what the prover sent back for a call)."""
    tools = [m for m in messages if m.get("role") == "tool"]
    return json.loads(tools[-back]["content"]) if len(tools) >= back else None


class ToolCallingDouble:
    """Serves /v1/chat/completions on 127.0.0.1 from ``script``; ``requests`` keeps every request body."""

    def __init__(self, script: Script, model: str = "tool-model") -> None:
        self.script = script
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ToolCallingDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON the endpoint answers ``body`` with."""
        try:
            _REQUEST.validate_python(body)
        except ValueError as exc:
            return 400, {"error": {"message": str(exc)[:500], "type": "invalid_request_error"}}
        if not isinstance(body.get("messages"), list) or not all(isinstance(m, dict) for m in body["messages"]):
            return 400, {"error": {"message": "messages must be an array of objects", "type": "invalid_request_error"}}
        refused = _check_conversation(body["messages"])
        if refused is not None or not body.get("tools"):
            return 400, {
                "error": {
                    "message": refused or "this double serves tool-calling requests",
                    "type": "invalid_request_error",
                }
            }
        self.requests.append(body)
        turn = self.script(body["messages"])
        calls = [
            {"id": f"call_{next(_ids):06d}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for n, a in turn.get("calls", [])
        ]
        message: dict[str, Any] = {"role": "assistant", "content": turn.get("say"), "refusal": None}
        if calls:
            message["tool_calls"] = calls
        prompt = sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4
        completion = len(json.dumps(message)) // 4
        out = {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
        ChatCompletion.model_validate(out)  # the API's own shape, or the double is wrong
        return 200, out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.rstrip("/") != "/v1/chat/completions":
                    status, out = 404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                else:
                    size = int(self.headers.get("Content-Length", "0"))
                    status, out = double.reply(json.loads(self.rfile.read(size)))
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
