"""The service's own bookkeeping, with a scripted verifier DOUBLE behind it (this is about the service, not
the checker): the queue count comes back to zero, a suite that differs from the client's is refused,
identity needs no load, metrics count verdicts. Everything with real HOL Light: test_service_real.py.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.checking.remote import problem_hash
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.service.app import create_app
from provebench.service.state import ServiceLimits, ServiceState
from provebench.suites.load import find_suite
from tests.doubles.verifier import ScriptedVerifierDouble, verdict
from tests.service_support import served

RELEASE = threading.Event()


def _script(problem: Problem, proof: str, _n: int) -> Verdict:
    if proof == "WAIT":
        RELEASE.wait(30)
    return verdict(Status.PASS, Reason.PROVED) if proof == "ARITH_TAC" else verdict(Status.FAIL, Reason.TACTIC_FAILED)


@pytest.fixture()
def service() -> Iterator[tuple[str, ServiceState]]:
    RELEASE.clear()
    settings = Settings(checkers=2, infra_backoff_s=0)
    state = ServiceState(
        engine=Engine(settings, lambda _p, _s: ScriptedVerifierDouble(_script)), limits=ServiceLimits(max_queue=5)
    )
    with served(create_app(state)) as url:
        yield url, state
    RELEASE.set()


def _post(url: str, path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            text = reply.read().decode()
            return reply.status, [json.loads(x) for x in text.splitlines()] if "\n" in text.strip() else json.loads(
                text
            )
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def item(proof: str, n: int = 0) -> dict[str, Any]:
    return {"suite": "hol-light-core", "problem": "add_comm", "proof": proof, "id": n}


def test_the_queue_count_returns_to_zero_after_every_kind_of_request(service: tuple[str, ServiceState]) -> None:
    url, state = service
    assert _post(url, "/v1/check", item("ARITH_TAC"))[1]["verdict"]["status"] == "PASS"
    assert [
        r["verdict"]["status"] for r in _post(url, "/v1/check", {"items": [item("ARITH_TAC"), item("X")]})[1]["results"]
    ] == ["PASS", "FAIL"]
    streamed = _post(url, "/v1/check", {"items": [item("ARITH_TAC", n) for n in range(3)], "stream": True})[1]
    assert [r["id"] for r in streamed] == [0, 1, 2]
    assert _post(url, "/v1/check", {"items": [item("X")] * 6})[0] == 429  # over max_queue on its own
    assert state.queued == 0


def test_a_full_queue_answers_429_until_it_drains(service: tuple[str, ServiceState]) -> None:
    url, state = service
    waiting = threading.Thread(target=lambda: _post(url, "/v1/check", {"items": [item("WAIT", n) for n in range(4)]}))
    waiting.start()
    deadline = time.monotonic() + 60
    while state.queued < 4:
        assert time.monotonic() < deadline, f"the 4 held proofs never all queued ({state.queued} in 60 s)"
        time.sleep(0.01)
    code, reply = _post(url, "/v1/check", {"items": [item("ARITH_TAC")] * 2})
    assert code == 429 and "4 proofs are waiting" in reply["error"]
    assert _post(url, "/v1/check", item("ARITH_TAC"))[0] == 200  # one more still fits
    RELEASE.set()
    waiting.join(60)
    assert not waiting.is_alive() and state.queued == 0
    state.draining = True
    assert _post(url, "/v1/check", item("ARITH_TAC"))[0] == 503


def test_a_suite_that_differs_from_the_clients_is_refused(service: tuple[str, ServiceState]) -> None:
    url, _ = service
    problem = find_suite("hol-light-core", Settings().suites_dir).problem("add_comm")
    assert _post(url, "/v1/check", {**item("ARITH_TAC"), "problem_hash": problem_hash(problem)})[0] == 200
    assert problem_hash(problem.model_copy(update={"timeout_s": 5.0})) == problem_hash(problem)  # limits travel apart
    changed = problem.model_copy(update={"statement": "!m n. n + m = m + n"})
    code, reply = _post(url, "/v1/check", {**item("ARITH_TAC"), "problem_hash": problem_hash(changed)})
    assert code == 409 and "differs here" in reply["error"]


def test_identity_starts_nothing_and_metrics_count_verdicts(service: tuple[str, ServiceState]) -> None:
    url, state = service
    code, identity = _post(url, "/v1/identity", {"suite": "hol-light-core", "problem": "add_comm"})
    assert code == 200 and identity["checker"]["recipe"] == "double:0"
    assert [c.state for c in state.engine.status()] == ["cold"]
    _post(url, "/v1/check", {"items": [item("ARITH_TAC"), item("X"), item("X")]})
    with urllib.request.urlopen(url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    assert 'provebench_checks_total{status="PASS"} 1.0' in text and 'provebench_checks_total{status="FAIL"} 2.0' in text


def test_a_checker_the_service_cannot_set_up_is_a_503_with_one_line() -> None:
    from provebench.core.errors import UserError

    def no_image(_problems: object, _settings: object) -> ScriptedVerifierDouble:
        raise UserError("no lean4-mathlib image here; provebench images build lean4-mathlib needs GitHub")

    state = ServiceState(engine=Engine(Settings(infra_backoff_s=0), no_image))  # type: ignore[arg-type]
    with served(create_app(state)) as url:
        code, reply = _post(url, "/v1/check", item("ARITH_TAC"))
    assert code == 503 and reply["error"].startswith("the service cannot check this: no lean4-mathlib image")


def test_a_token_guards_every_route_the_schema_included() -> None:
    settings = Settings(checkers=1, infra_backoff_s=0)
    state = ServiceState(engine=Engine(settings, lambda _p, _s: ScriptedVerifierDouble(_script)), token="s3cret")

    def get(url: str, path: str, token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=60) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            assert exc.code != 401 or "bearer token" in json.loads(exc.read())["error"]
            return exc.code

    with served(create_app(state)) as url:
        assert [get(url, p, None) for p in ("/v1/health", "/metrics", "/no-such-path")] == [401, 401, 401]
        assert get(url, "/v1/health", "wrong") == 401
        assert [get(url, p, None) for p in ("/openapi.json", "/docs")] == [401, 401]
        assert [get(url, p, "s3cret") for p in ("/v1/health", "/metrics", "/no-such-path")] == [200, 200, 404]
        code, reply = _post(url, "/v1/check", item("ARITH_TAC"))
        assert code == 401 and state.queued == 0
