"""Proof sessions over HTTP on real HOL Light: `provebench serve` as users start it, its /v1/sessions routes.

One service (a bearer token, one warm checker) serves the module's tests, in any order; each opens and
closes its own sessions. A session is advice: the proof its steps make gets its verdict from the
ordinary check, the same one ``POST /v1/check`` gives. The last test kills the checker under a session.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.serve_process import Service, start_serve
from tests.service_support import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TOKEN = "s3cret-sessions"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DE_MORGAN = {"suite": "hol-light-core", "problem": "de_morgan_and"}
SPLIT = "REPEAT GEN_TAC THEN EQ_TAC"
SCRIPT = "(REPEAT GEN_TAC THEN EQ_TAC) THENL [(DISCH_TAC) THEN (ASM_MESON_TAC[]); MESON_TAC[]]"


class Client:
    """The module's service, asked with its token."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def ask(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, reply, _ = self.service.ask(method, path, body, headers=AUTH)
        return status, reply

    def open(self, target: dict[str, str]) -> dict[str, Any]:
        status, reply = self.ask("POST", "/v1/sessions", target)
        assert status == 201 and reply["ok"] and len(reply["goals"]) == 1, reply
        return dict(reply)

    def step(self, sid: str, tactic: str) -> dict[str, Any]:
        status, reply = self.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": tactic})
        assert status == 200, reply
        return dict(reply)

    def close(self, sid: str) -> None:
        assert self.ask("DELETE", f"/v1/sessions/{sid}")[0] in (204, 404)  # 404: a test already closed it


def _wait_up(service: Service, within_s: float) -> None:
    """Until ``/v1/health`` answers the token (its context warm by then); a service that exits fails with its log."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert service.proc.poll() is None, f"the service exited: {service.log.read_text()[-2000:]}"
        try:
            if service.ask("GET", "/v1/health", headers=AUTH)[0] == 200:
                return
        except OSError:  # not listening yet
            time.sleep(0.5)
    raise AssertionError(f"the service did not come up: {service.log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    port, log = free_port(), tmp_path_factory.mktemp("sessions") / "serve.log"
    args = ["--port", str(port), "--token-env", "PB_SESSIONS_TOKEN", "--checkers", "1", "--memory-mb", "2048"]
    proc = start_serve([*args, "--warm", "hol-light-core", "--max-sessions", "4"], log, {"PB_SESSIONS_TOKEN": TOKEN})
    service = Service(f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait_up(service, within_s=900)
        yield Client(service)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def test_steps_split_goals_a_failing_step_changes_nothing_and_undo_goes_back(client: Client) -> None:
    opened = client.open(DE_MORGAN)
    sid = opened["session"]
    try:
        assert opened["goals"][0]["goal"] == "forall p q. ~(p /\\ q) <=> ~p \\/ ~q" and opened["steps"] == 0
        split = client.step(sid, SPLIT)
        assert split["ok"] and split["steps"] == 1
        assert [g["goal"] for g in split["goals"]] == ["~(p /\\ q) ==> ~p \\/ ~q", "~p \\/ ~q ==> ~(p /\\ q)"]
        assert "`~(p /\\ q) ==> ~p \\/ ~q`" in split["goals"][0]["text"]  # HOL Light's own printing
        failed = client.step(sid, "ARITH_TAC")
        assert (failed["ok"], failed["status"], failed["reason"]) == (False, "FAIL", "tactic-failed")
        assert failed["messages"] and failed["steps"] == 1
        forbidden = client.step(sid, "CHEAT_TAC")
        assert (forbidden["status"], forbidden["reason"]) == ("CHEATING", "forbidden-construct")
        status, view = client.ask("GET", f"/v1/sessions/{sid}")
        assert status == 200 and view["goals"] == split["goals"] and view["problem"] == "de_morgan_and"
        assert [s["tactic"] for s in view["steps"]] == [SPLIT] and not view["solved"] and view["script"] is None
        status, back = client.ask("POST", f"/v1/sessions/{sid}/undo")
        assert status == 200 and back["ok"] and back["steps"] == 0 and back["goals"] == opened["goals"]
        status, none_left = client.ask("POST", f"/v1/sessions/{sid}/undo")
        assert status == 200 and (none_left["ok"], none_left["reason"]) == (False, "nothing-to-undo")
    finally:
        client.close(sid)


def test_the_steps_proof_passes_the_ordinary_check_as_the_check_route_judges_it(client: Client) -> None:
    sid = client.open(DE_MORGAN)["session"]
    try:
        for tactic in (SPLIT, "DISCH_TAC", "ASM_MESON_TAC[]"):
            assert client.step(sid, tactic)["ok"]
        status, early = client.ask("POST", f"/v1/sessions/{sid}/check")
        assert status == 409 and "goals left" in early["error"]
        assert client.step(sid, "MESON_TAC[]")["solved"]
        status, view = client.ask("GET", f"/v1/sessions/{sid}")
        assert view["solved"] and view["goals"] == [] and view["script"] == SCRIPT
        status, checked = client.ask("POST", f"/v1/sessions/{sid}/check")
        _, ordinary = client.ask("POST", "/v1/check", {**DE_MORGAN, "proof": SCRIPT})
        assert status == 200 and checked["verdict"]["status"] == ordinary["verdict"]["status"] == "PASS"
        same = ("status", "reason", "checker", "service")
        assert {k: checked["verdict"][k] for k in same} == {k: ordinary["verdict"][k] for k in same}
        status, other = client.ask("POST", f"/v1/sessions/{sid}/check", {"proof": "ARITH_TAC"})
        assert status == 200 and other["verdict"]["status"] == "FAIL"  # the check judges, not the session
        _, metrics = client.ask("GET", "/metrics")
        assert 'provebench_session_steps_total{status="OK"}' in metrics and "provebench_proof_sessions_open" in metrics
    finally:
        client.close(sid)


def test_search_finds_theorems_by_name_and_by_term(client: Client) -> None:
    sid = client.open({"suite": "hol-light-core", "problem": "add_comm"})["session"]
    try:
        status, by_name = client.ask("POST", f"/v1/sessions/{sid}/search", {"by": "name", "text": "ADD_SY"})
        assert status == 200 and {h["name"]: h["statement"] for h in by_name["hits"]}["ADD_SYM"] == (
            "forall m n. m + n = n + m"
        )
        status, by_term = client.ask("POST", f"/v1/sessions/{sid}/search", {"by": "term", "text": "m + n = n + m"})
        assert status == 200 and "ADD_SYM" in {h["name"] for h in by_term["hits"]}
        assert client.step(sid, "ACCEPT_TAC ADD_SYM")["solved"]
    finally:
        client.close(sid)


def test_the_token_is_needed_and_an_unknown_or_closed_session_is_a_404(client: Client) -> None:
    status, reply, _ = client.service.ask("POST", "/v1/sessions", DE_MORGAN)
    assert status == 401 and "bearer token" in reply["error"]
    sid = client.open(DE_MORGAN)["session"]
    status, reply, _ = client.service.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": SPLIT})
    assert status == 401
    assert client.ask("DELETE", f"/v1/sessions/{sid}")[0] == 204
    for gone in (sid, "no-such-session"):
        status, reply = client.ask("POST", f"/v1/sessions/{gone}/step", {"tactic": SPLIT})
        assert status == 404 and set(reply) == {"error"} and f"no open proof session {gone!r}" in reply["error"]
        assert client.ask("DELETE", f"/v1/sessions/{gone}")[0] == 404


def test_a_session_whose_checker_is_killed_ends_and_the_service_serves_on(client: Client) -> None:
    sid = client.open(DE_MORGAN)["session"]
    labels = ["org.provebench.role=checker", f"org.provebench.owner-pid={client.service.proc.pid}"]
    running = docker.from_env().containers.list(filters={"label": labels, "status": "running"})
    assert running, "no checker container to kill"
    for container in running:
        container.kill()
    status, reply = client.ask("POST", f"/v1/sessions/{sid}/step", {"tactic": SPLIT})
    assert status == 503 and reply["error"].startswith(f"checker unavailable: proof session {sid} ended")
    assert client.ask("GET", f"/v1/sessions/{sid}")[0] == 404
    _, checked = client.ask("POST", "/v1/check", {**DE_MORGAN, "proof": SCRIPT})  # the checker is started again
    assert checked["verdict"]["status"] == "PASS"
    again = client.open(DE_MORGAN)["session"]
    assert client.step(again, SPLIT)["ok"]
    client.close(again)
