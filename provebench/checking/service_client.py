"""A client of the checker service, on the standard library only (``check --server`` starts in milliseconds).

``ServiceClient`` posts JSON and turns the service's answers into provebench's failure channels:
a 4xx is the caller's mistake (``UserError``, the service's one line); no answer, a 5xx or a
draining service is infrastructure (``VerifierUnavailable``), which the engine retries.
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import urlsplit

from provebench.core.errors import UserError, VerifierUnavailable

SERVER_ENV = "PROVEBENCH_SERVER"
TOKEN_ENV = "PROVEBENCH_SERVER_TOKEN"


def server_url(given: str | None) -> str | None:
    """The service to check through: ``--server``, else ``PROVEBENCH_SERVER``, else none (local checkers)."""
    url = given if given is not None else os.environ.get(SERVER_ENV) or None
    if url is None:
        return None
    parts = urlsplit(url if "//" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--server {url}: want http://HOST:PORT")
    return f"{parts.scheme}://{parts.netloc}"


class ServiceClient:
    """Requests to one service; a connection per request (clients are threads of one command)."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 24 * 3600) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        self._timeout_s = timeout_s

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout_s)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer of one request; errors as ``UserError`` (4xx) or ``VerifierUnavailable``."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        conn = self._connection()
        try:
            conn.request(method, path, body=data, headers=headers)
            reply = conn.getresponse()
            raw = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            raise VerifierUnavailable(f"no provebench service answers at {self.url}: {exc}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            raise VerifierUnavailable(f"{self.url}{path} answered {reply.status} with no JSON") from None
        except RecursionError:  # a reply is input too: not from a provebench service, or not one to trust
            raise VerifierUnavailable(f"{self.url}{path} answered {reply.status} with JSON nested too deep") from None
        if reply.status >= 400:
            message = answer.get("error") if isinstance(answer, dict) else None
            line = f"the service at {self.url} says: {message or reply.reason} ({reply.status})"
            if reply.status in (429, 503) or reply.status >= 500:
                raise VerifierUnavailable(line)
            raise UserError(line)
        return answer

    def health(self) -> dict[str, Any]:
        """``GET /v1/health``."""
        answer: dict[str, Any] = self.request("GET", "/v1/health")
        return answer

    def identity(self, target: dict[str, Any], load: bool = False) -> dict[str, Any]:
        """The checker identity of a target (``load``: its context loaded first)."""
        answer: dict[str, Any] = self.request("POST", "/v1/warm" if load else "/v1/identity", target)
        return answer

    def check(self, item: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """One proof's result: ``{"id", "verdict", "retries"}``."""
        body = dict(item, timeout_s=timeout_s) if timeout_s is not None else item
        answer: dict[str, Any] = self.request("POST", "/v1/check", body)
        return answer
