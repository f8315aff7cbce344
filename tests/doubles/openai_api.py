"""A double of a remote OpenAI-compatible chat completions API, served on 127.0.0.1.

It speaks the real wire protocol of ``POST /v1/chat/completions``: bearer-key
auth, the ``chat.completion`` object with ``choices``, ``finish_reason`` and
``usage``, and error bodies ``{"error": {"message", "type", "code"}}`` with the
real status codes. Faults are scripted per request, in order: ``"429"`` (with
``Retry-After``), ``"500"``, ``"slow"`` (answers after the client gave up),
``"malformed"`` (a 200 whose body is not JSON), ``"nocode"`` (a reply with no
code block), ``"400"``, ``"401"``.
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


def _statement(user_message: str) -> str | None:
    m = re.search(r"(?<!`)`([^`\n]+)`(?!`)", user_message)  # a backquoted goal, not a code fence
    return m.group(1) if m else None


class OpenAIApiDouble:
    """Serves canned replies: ``answer(statement, user_message)`` gives the reply to a prompt."""

    def __init__(
        self,
        answer: Callable[[str, str], str],
        faults: list[str] | None = None,
        model: str = "double-model",
        retry_after_s: float = 0.2,
        slow_s: float = 2.0,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        self.answer = answer
        self.faults = list(faults or [])
        self.model = model
        self.retry_after_s = retry_after_s
        self.slow_s = slow_s
        self.exempt = exempt  # goals whose requests never get a fault
        self.requests: list[dict[str, Any]] = []
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
                body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
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
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._error(404, f"no route {self.path}", "invalid_request_error")
                    return
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error")
                    return
                if request.get("model") != double.model:
                    self._error(404, f"The model `{request.get('model')}` does not exist", "invalid_request_error")
                    return
                with double._lock:
                    double.requests.append(request)
                user = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
                statement = _statement(user) or ""
                fault = None if statement in double.exempt else double._next_fault()
                if fault == "429":
                    self._error(429, "Rate limit reached.", "requests", {"Retry-After": str(double.retry_after_s)})
                    return
                if fault == "500":
                    self._error(500, "The server had an error while processing your request.", "server_error")
                    return
                if fault == "400":
                    self._error(400, "This model's maximum context length is exceeded.", "invalid_request_error")
                    return
                if fault == "401":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error")
                    return
                if fault == "slow":
                    time.sleep(double.slow_s)
                if fault == "malformed":
                    self._send(200, b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [')
                    return
                content = "I cannot prove this." if fault == "nocode" else double.answer(statement, user)
                body = {
                    "id": f"chatcmpl-{len(double.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": double.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": len(user.split()),
                        "completion_tokens": len(content.split()),
                        "total_tokens": len(user.split()) + len(content.split()),
                    },
                }
                self._send(200, json.dumps(body).encode())

        return Handler


def fenced(proof: str) -> str:
    """A model-like reply whose last code block is ``proof``."""
    return f"Let me think.\n```ocaml\nARITH_TAC (* a first idea *)\n```\nBetter:\n```ocaml\n{proof}\n```\n"
