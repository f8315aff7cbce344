"""The service's proof session routes (``/v1/sessions``), with scripted session and verifier DOUBLES behind them.

This is about what the service does with sessions (statuses, limits, the queue, expiry, shutdown, metrics),
not about HOL Light: the double's goals are names (tests/doubles/live_session.py). Everything on real
HOL Light checkers: tests/integration/test_service_sessions_real.py.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.core.settings import Settings
from provebench.service.app import create_app
from provebench.service.sessions import sweep_every_s
from provebench.service.state import ServiceLimits, ServiceState
from tests.doubles.live_session import SessionVerifierDouble
from tests.doubles.verifier import passes_if
from tests.service_support import served

SCRIPT = "(SPLIT) THENL [DONE; DONE]"  # the proof that SPLIT, DONE, DONE make
ADD_COMM = {"suite": "hol-light-core", "problem": "add_comm"}


@dataclass
class Served:
    url: str
    state: ServiceState
    verifiers: list[SessionVerifierDouble]
    release: threading.Event
    token: str | None = None

    def ask(self, method: str, path: str, body: Any = None, token: str | None = "") -> tuple[int, Any, Any]:
        """Status, JSON reply (None when empty) and headers; ``token`` "" sends the service's own."""
        token = self.token if token == "" else token
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                text = reply.read()
                return reply.status, json.loads(text) if text else None, reply.headers
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), exc.headers

    def open(self, target: dict[str, Any] = ADD_COMM) -> str:
        status, reply, _ = self.ask("POST", "/v1/sessions", target)
        assert status == 201, reply
        return str(reply["session"])

    def step(self, sid: str, tactic: str) -> dict[str, Any]:
        status, reply, _ = self.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": tactic})
        assert status == 200, reply
        return dict(reply)

    @property
    def opened(self) -> list[Any]:
        return [live for v in self.verifiers for live in v.opened]


@contextmanager
def _serve(limits: ServiceLimits | None = None, token: str | None = None) -> Iterator[Served]:
    release = threading.Event()
    verifiers: list[SessionVerifierDouble] = []

    def make(_settings: object, _problems: object) -> SessionVerifierDouble:
        verifiers.append(SessionVerifierDouble(passes_if(SCRIPT), release))
        return verifiers[-1]

    settings = Settings(checkers=2, infra_backoff_s=0, max_proof_bytes=1000)
    state = ServiceState(engine=Engine(settings, make), limits=limits or ServiceLimits(), token=token)
    try:
        with served(create_app(state)) as url:
            yield Served(url, state, verifiers, release, token)
    finally:
        release.set()


@pytest.fixture()
def service() -> Iterator[Served]:
    with _serve(ServiceLimits(max_sessions=3, max_queue=4)) as served_:
        yield served_


def test_a_session_steps_undoes_and_its_steps_proof_gets_the_check_routes_verdict(service: Served) -> None:
    status, opened, _ = service.ask("POST", "/v1/sessions", {**ADD_COMM, "timeout_s": 5})
    assert status == 201 and opened["ok"] and [g["goal"] for g in opened["goals"]] == ["add_comm"]
    sid = opened["session"]
    split = service.step(sid, "SPLIT")
    assert [g["goal"] for g in split["goals"]] == ["add_comm.1", "add_comm.2"] and split["steps"] == 1
    failed = service.step(sid, "NOPE")
    assert (failed["ok"], failed["status"], failed["reason"], failed["steps"]) == (False, "FAIL", "tactic-failed", 1)
    status, back, _ = service.ask("POST", f"/v1/sessions/{sid}/undo")
    assert status == 200 and back["steps"] == 0 and len(back["goals"]) == 1
    for tactic in ("SPLIT", "DONE"):
        service.step(sid, tactic)
    status, view, _ = service.ask("GET", f"/v1/sessions/{sid}")
    assert status == 200 and not view["solved"] and view["script"] is None and view["problem"] == "add_comm"
    status, reply, _ = service.ask("POST", f"/v1/sessions/{sid}/check", {})
    assert status == 409 and "goals left" in reply["error"]
    assert service.step(sid, "DONE")["solved"]
    status, view, _ = service.ask("GET", f"/v1/sessions/{sid}")
    assert view["solved"] and view["script"] == SCRIPT
    assert [(s["tactic"], s["goals_before"], s["goals_after"]) for s in view["steps"]] == [
        ("SPLIT", 1, 2),
        ("DONE", 2, 1),
        ("DONE", 1, 0),
    ]
    status, checked, _ = service.ask("POST", f"/v1/sessions/{sid}/check")  # no body: the steps' proof
    _, ordinary, _ = service.ask("POST", "/v1/check", {**ADD_COMM, "proof": SCRIPT})
    assert status == 200 and checked["verdict"]["status"] == "PASS" and set(checked) == set(ordinary)
    assert checked["verdict"]["checker"] == ordinary["verdict"]["checker"]
    status, other, _ = service.ask("POST", f"/v1/sessions/{sid}/check", {"proof": "DONE"})
    assert status == 200 and other["verdict"]["status"] == "FAIL"  # the check judges, not the session
    status, found, _ = service.ask("POST", f"/v1/sessions/{sid}/search", {"by": "name", "text": "ADD"})
    assert status == 200 and found["hits"] == [{"name": "NAME_ADD", "statement": "ADD"}] and found["more"] == 2
    assert service.state.queued == 0


def test_a_closed_or_unknown_session_is_a_404_with_one_line_on_every_route(service: Served) -> None:
    sid = service.open()
    status, reply, _ = service.ask("DELETE", f"/v1/sessions/{sid}")
    assert status == 204 and reply is None and service.opened[0].closed and len(service.state.sessions) == 0
    for method, path, body in [
        ("GET", "", None),
        ("POST", "/step", {"tactic": "DONE"}),
        ("POST", "/undo", None),
        ("POST", "/search", {"by": "term", "text": "x"}),
        ("POST", "/check", {"proof": "X"}),
        ("DELETE", "", None),
    ]:
        for who in (sid, "never-opened"):
            status, reply, _ = service.ask(method, f"/v1/sessions/{who}{path}", body)
            assert status == 404 and reply == {
                "error": f"no open proof session {who!r} (closed, expired, or never opened)"
            }
    assert service.ask("GET", "/v1/sessions/" + "x" * 65)[0] == 422  # an id is short: a long one is not looked up
    assert service.state.queued == 0


def test_too_many_sessions_is_a_429_until_one_closes(service: Served) -> None:
    ids = [service.open() for _ in range(3)]
    status, reply, headers = service.ask("POST", "/v1/sessions", ADD_COMM)
    assert status == 429 and "3 proof sessions are open" in reply["error"] and headers["Retry-After"] == "30"
    service.ask("DELETE", f"/v1/sessions/{ids[0]}")
    assert service.open() not in ids


def test_session_requests_count_in_the_queue_and_a_draining_service_refuses_them(service: Served) -> None:
    sid, other = service.open(), service.open()
    held = threading.Thread(target=lambda: service.step(sid, "WAIT"))
    held.start()
    deadline = time.monotonic() + 30
    while service.state.queued < 1:
        assert time.monotonic() < deadline, "the held step never queued"
        time.sleep(0.01)
    status, reply, _ = service.ask("POST", "/v1/check", {"items": [{**ADD_COMM, "proof": "X"}] * 4})
    assert status == 429 and "1 proofs are waiting" in reply["error"]  # the queue holds 4: the held step is one
    assert service.step(other, "DONE")["solved"]  # another session is not held up by it
    service.release.set()
    held.join(30)
    assert service.state.queued == 0 and len(service.state.sessions.steps(sid)) == 0  # WAIT then failed
    service.state.draining = True
    assert service.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": "DONE"})[0] == 503
    assert service.ask("POST", "/v1/sessions", ADD_COMM)[0] == 503


def test_a_session_whose_checker_died_is_a_503_then_gone_and_the_service_serves_on(service: Served) -> None:
    sid, other = service.open(), service.open()
    status, reply, _ = service.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": "DIE"})
    assert status == 503 and reply["error"].startswith(f"checker unavailable: proof session {sid} ended")
    assert service.ask("GET", f"/v1/sessions/{sid}")[0] == 404
    assert service.step(other, "SPLIT")["ok"]
    _, checked, _ = service.ask("POST", "/v1/check", {**ADD_COMM, "proof": SCRIPT})
    assert checked["verdict"]["status"] == "PASS"


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/v1/sessions", {**ADD_COMM, "extra": 1}, 422, "extra: Extra inputs"),
        ("/v1/sessions", {"suite": "../problems/hol-light-core", "problem": "add_comm"}, 422, "not a path"),
        ("/v1/sessions", {"suite": "no-such", "problem": "add_comm"}, 404, "no suite 'no-such'"),
        ("/v1/sessions", {"suite": "hol-light-core", "problem": "no_such"}, 404, "no_such"),
        ("/v1/sessions", {**ADD_COMM, "timeout_s": 0}, 422, "timeout_s"),
        ("/v1/sessions", {"suite": "lean4-core", "problem": "pb_and_swap"}, 422, "HOL Light problems, not lean4"),
        (
            "/v1/sessions",
            {"system": "hol-light", "goal": "m + + n"},
            422,
            "did not open (ERROR bad-goal): parse error at +",
        ),
        ("/v1/sessions/SID/step", {"tactic": ""}, 422, "tactic"),
        ("/v1/sessions/SID/step", {"tactic": "X" * 1001}, 413, "size limit of 1000 bytes"),
        ("/v1/sessions/SID/step", {"tactic": "DONE", "goal": 1}, 422, "goal: Extra inputs"),
        ("/v1/sessions/SID/search", {"by": "kind", "text": "x"}, 422, "by"),
        ("/v1/sessions/SID/check", {"proof": "X" * 1001}, 413, "size limit"),
    ],
)
def test_a_bad_session_request_is_a_4xx_with_one_line(
    service: Served, path: str, body: Any, status: int, words: str
) -> None:
    sid = service.open({"system": "hol-light", "goal": "m = m"})
    got, reply, _ = service.ask("POST", path.replace("SID", sid), body)
    assert got == status and set(reply) == {"error"} and words in reply["error"], reply
    assert "\n" not in reply["error"] and service.state.queued == 0


def test_an_ad_hoc_goal_opens_a_session_as_a_check_of_it_is_named() -> None:
    with _serve() as served_:
        status, reply, _ = served_.ask("POST", "/v1/sessions", {"system": "hol-light", "goal": "T"})
        assert status == 201 and reply["goals"][0]["goal"] == "goal"


def test_idle_sessions_are_closed_by_the_sweep_with_no_request_coming() -> None:
    assert sweep_every_s(600) == 60 and sweep_every_s(40) == 10 and sweep_every_s(0.01) == 0.05
    with _serve(ServiceLimits(session_idle_s=0.3)) as served_:
        served_.open()
        deadline = time.monotonic() + 30
        while len(served_.state.sessions):
            assert time.monotonic() < deadline, "the idle session was never closed"
            time.sleep(0.05)
        assert served_.opened[0].closed


def test_shutdown_closes_every_session() -> None:
    with _serve() as served_:
        served_.open(), served_.open()
        opened = served_.opened
        assert not any(live.closed for live in opened)
    assert len(opened) == 2 and all(live.closed for live in opened) and len(served_.state.sessions) == 0


def test_the_token_guards_the_session_routes() -> None:
    with _serve(token="s3cret") as served_:
        status, reply, _ = served_.ask("POST", "/v1/sessions", ADD_COMM, token=None)
        assert status == 401 and "bearer token" in reply["error"] and len(served_.state.sessions) == 0
        sid = served_.open()
        assert served_.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": "DONE"}, token="wrong")[0] == 401
        assert served_.ask("DELETE", f"/v1/sessions/{sid}", token=None)[0] == 401
        assert served_.ask("DELETE", f"/v1/sessions/{sid}")[0] == 204


def test_metrics_count_open_sessions_and_steps_by_outcome(service: Served) -> None:
    sid = service.open()
    service.open()
    for tactic in ("SPLIT", "NOPE", "NOPE", "DONE"):
        service.step(sid, tactic)
    service.ask("POST", f"/v1/sessions/{sid}/check", {"proof": SCRIPT})
    with urllib.request.urlopen(service.url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    assert "provebench_proof_sessions_open 2.0" in text
    assert 'provebench_session_steps_total{status="OK"} 2.0' in text
    assert 'provebench_session_steps_total{status="FAIL"} 2.0' in text
    assert 'provebench_checks_total{status="PASS"} 1.0' in text  # a session's check is a check
