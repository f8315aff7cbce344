"""Hostile and careless requests: every answer is JSON, a client's fault is a 4xx, never a 500 or a traceback.

Real uvicorn on loopback with a scripted verifier DOUBLE behind it (this is about the service's input, not
checking). The property tests send generated JSON and bytes to every route that takes a body: each
answer is a valid reply or a one-line JSON error with a 4xx status (or 503 while draining: never here).
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provebench.checking.engine import Engine
from provebench.core.model import System
from provebench.core.settings import Settings
from provebench.service.app import create_app
from provebench.service.state import ServiceState
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if
from tests.service_support import served

TOKEN = "s3cret"
BODY_ROUTES = ("/v1/check", "/v1/identity", "/verify", "/api/check")


class Client:
    """One keep-alive connection to the service (hundreds of requests per property test)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(self, method: str, path: str, body: bytes | None = None, token: str | None = TOKEN) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        for attempt in range(2):  # a connection the server closed after an error reply is opened again
            try:
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                raw = reply.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        kind = reply.getheader("content-type", "")
        if not kind.startswith("application/json"):
            return reply.status, raw.decode(errors="replace")
        return reply.status, json.loads(raw)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    engine = Engine(Settings(infra_backoff_s=0, checkers=1), lambda _s, _p: ScriptedVerifierDouble(passes_if("X")))
    state = ServiceState(engine=engine, token=TOKEN, systems=(System.HOL_LIGHT, System.LEAN4))
    with served(create_app(state)) as url:
        yield Client(url)


def _fine(status: int, reply: Any) -> bool:
    """A valid reply, or a one-line JSON error that is the client's (4xx)."""
    if status == 200:
        return isinstance(reply, dict)
    return 400 <= status < 500 and isinstance(reply, dict) and isinstance(reply.get("error"), str)


def _deep(depth: int) -> bytes:
    return b'{"suite": ' + b"[" * depth + b"]" * depth + b', "problem": "a", "proof": "X"}'


class Records(logging.Handler):
    """What uvicorn logs (its loggers do not propagate to the root, where ``caplog`` listens)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture()
def uvicorn_log() -> Iterator[Records]:
    records, logger = Records(), logging.getLogger("uvicorn.error")
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


@pytest.mark.parametrize(
    "path", [*BODY_ROUTES, "/v1/warm", "/api/checks", "/v1/sessions", "/v1/sessions/x/step", "/v1/sessions/x/search"]
)
def test_a_body_nested_100000_deep_is_a_json_4xx_without_a_traceback(
    client: Client, path: str, uvicorn_log: Records
) -> None:
    status, reply = client.send("POST", path, _deep(100_000))
    assert 400 <= status < 500 and "nested deeper than" in reply["error"], (status, reply)
    assert not [r for r in uvicorn_log.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_body_nested_65_deep_is_a_400_and_64_deep_goes_on_to_validation(client: Client, path: str) -> None:
    """The README's limit: JSON nested over 64 deep is a 400, before anything recursive reads it."""
    status, reply = client.send("POST", path, _deep(64))  # the body's mapping, then 64 lists: 65 levels
    assert status == 400 and "nested deeper than 64 levels" in reply["error"], (status, reply)
    status, reply = client.send("POST", path, _deep(63))
    assert status == 422 and "nested" not in reply["error"], (status, reply)


def test_every_http_error_is_one_line_of_json(client: Client) -> None:
    assert client.send("GET", "/no-such-path") == (404, {"error": "Not Found"})
    status, reply = client.send("GET", "/v1/check")
    assert status == 405 and reply == {"error": "Method Not Allowed"}
    status, reply = client.send("POST", "/verify", b"\xff\xfe not json")
    assert status in (400, 422) and isinstance(reply["error"], str)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/check", b'{"system": "hol-light", "goal": "T", "proof": "X", "timeout_s": 1e400}'),
        ("/v1/check", b'{"items": [{"system": "hol-light", "goal": "T", "proof": "X"}], "timeout_s": Infinity}'),
        ("/verify", b'{"codes": [{"custom_id": 1, "code": "X"}], "timeout": 1e400}'),
        ("/api/check", b'{"snippets": [{"id": "a", "code": "X"}], "timeout": 1e9}'),
    ],
)
def test_an_unbounded_timeout_in_a_request_is_a_422(client: Client, path: str, body: bytes) -> None:
    status, reply = client.send("POST", path, body)
    assert status == 422 and "timeout" in reply["error"], (status, reply)


def test_the_schema_and_the_docs_need_the_token_too(client: Client) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        status, reply = client.send("GET", path, token=None)
        assert status == 401 and "bearer token" in reply["error"], path
    assert client.send("GET", "/openapi.json")[0] == 200 and client.send("GET", "/docs")[0] == 200


# Values near the service's own vocabulary, so that generated bodies reach past the first check.
_WORDS = st.sampled_from(
    ["hol-light-core", "add_comm", "X", "hol-light", "lean4", "`T`", "../..", "/etc", "", "a", "items"]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | _WORDS
)
_KEYS = st.sampled_from(
    [
        *("suite", "problem", "proof", "system", "goal", "id", "problem_hash", "items", "timeout_s", "stream"),
        *("codes", "custom_id", "code", "snippets", "timeout", "infotree_type", "disable_cache", "debug", "reuse"),
    ]
) | st.text(max_size=6)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6), max_leaves=12
)
_BODIES = st.dictionaries(_KEYS, _JSON, max_size=7) | _JSON


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(BODY_ROUTES), body=_BODIES)
def test_any_json_body_gets_a_reply_or_a_json_4xx(client: Client, path: str, body: Any) -> None:
    status, reply = client.send("POST", path, json.dumps(body).encode())
    assert _fine(status, reply), (status, reply)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(BODY_ROUTES), raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_any_bytes_get_a_json_4xx(client: Client, path: str, raw: bytes) -> None:
    status, reply = client.send("POST", path, raw)
    assert _fine(status, reply), (status, reply)


def test_a_fault_of_the_service_is_still_one_line_of_json() -> None:
    def broken(_settings: object, _problem: object) -> ScriptedVerifierDouble:
        raise RuntimeError("a bug")  # not a client's fault: a 500, its traceback in the log, JSON to the client

    state = ServiceState(engine=Engine(Settings(infra_backoff_s=0), broken), token=TOKEN, systems=(System.HOL_LIGHT,))
    with served(create_app(state)) as url:
        body = json.dumps({"system": "hol-light", "goal": "T"}).encode()
        reply = Client(url).send("POST", "/v1/identity", body)
    assert reply == (500, {"error": "internal error of the service (RuntimeError)"})
