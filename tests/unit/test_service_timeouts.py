"""A request's ``timeout_s`` is capped by each problem's own limit: a client cannot buy a longer check than the
suite allows, and may ask for a shorter one."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.service.app import create_app
from provebench.service.state import ServiceState
from tests.doubles.verifier import ScriptedVerifierDouble, verdict
from tests.service_support import served

ASKED: list[float | None] = []


class _RecordingDouble(ScriptedVerifierDouble):
    """The scripted double, noting the time limit each check was given."""

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        ASKED.append(timeout_s)
        return super().check(problem, proof, timeout_s)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    state = ServiceState(
        engine=Engine(
            Settings(infra_backoff_s=0), lambda _p, _s: _RecordingDouble(lambda *_: verdict(Status.PASS, Reason.PROVED))
        )
    )
    with served(create_app(state)) as base:
        yield base


def _check(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url + "/v1/check", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


@pytest.mark.parametrize(("asked", "given"), [(None, 30.0), (5, 5.0), (30, 30.0), (3600, 30.0), (604800, 30.0)])
def test_a_request_timeout_is_capped_by_the_problems_own(url: str, asked: float | None, given: float) -> None:
    # add_comm of hol-light-core has the suite's default limit, 30 s.
    ASKED.clear()
    item = {"suite": "hol-light-core", "problem": "add_comm", "proof": "ARITH_TAC", "id": 0}
    body: dict[str, Any] = {"items": [item]} if asked is None else {"items": [item], "timeout_s": asked}
    assert _check(url, body)["results"][0]["verdict"]["status"] == "PASS"
    assert ASKED == [given]
