"""What ``serve`` does before it listens (suite folders, warm targets, where it listens) and how a signal drains it.

No Docker: the checkers are the scripted verifier DOUBLE behind a real ``Engine`` (this is about starting
and stopping the service, not checking), and ``serve`` runs on real uvicorn in this process. The same on real
HOL Light checkers, started as users start it, is in tests/integration/test_service_real.py.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.core.errors import UserError
from provebench.core.model import Problem, System
from provebench.core.settings import Settings
from provebench.service.server import ServeOptions, ready, serve, service_state
from provebench.service.state import ApiError, ServiceLimits
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if
from tests.service_support import free_port
from tests.unit.test_service_suites import write_suite

TWO_PROBLEMS = "- {id: a, statement: T}\n- {id: b, statement: T}\n"  # one context: a checker loaded once serves both


class Checkers:
    """The engine's checkers: which contexts were loaded (by their problems' ids) and whether all were stopped."""

    def __init__(self) -> None:
        self.loaded: list[list[str]] = []
        self.made: list[ScriptedVerifierDouble] = []

    def engine(self, tmp_path: Path) -> Engine:
        checkers = self

        class Recorded(ScriptedVerifierDouble):
            def __init__(self, problems: Sequence[Problem]) -> None:
                super().__init__(passes_if("ARITH_TAC"))
                self.ids = [p.id for p in problems]
                checkers.made.append(self)

            def prepare(self) -> None:
                checkers.loaded.append(self.ids)
                super().prepare()

        settings = Settings(suites_dir=tmp_path / "no-user-suites", cache_dir=tmp_path / "cache", infra_backoff_s=0)
        return Engine(settings, lambda _s, problems: Recorded(problems))

    def all_stopped(self) -> bool:
        return all(v.closed for v in self.made if v.prepared)


@pytest.fixture()
def suite(tmp_path: Path) -> Path:
    return write_suite(tmp_path / "work" / "extra", "extra", TWO_PROBLEMS)


def test_warm_targets_load_a_suite_s_first_problem_or_the_one_named_before_the_service_listens(
    tmp_path: Path, suite: Path
) -> None:
    checkers, said = Checkers(), list[str]()
    options = ServeOptions(suites=[suite], warm=["extra", "extra:b"])
    with checkers.engine(tmp_path) as engine:
        ready(service_state(engine, options), options, said.append)
        assert said == ["warming extra:a...", "warming extra:b..."]
        assert checkers.loaded == [["a"]]  # one context, loaded once (for the first target)
    assert checkers.all_stopped()


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        pytest.param("nosuch", "--warm nosuch: this service serves no suite 'nosuch' (it serves: extra, ", id="suite"),
        pytest.param("extra:zz", "--warm extra:zz: suite extra has no problem 'zz'", id="problem"),
    ],
)
def test_a_warm_target_the_service_does_not_serve_is_refused_in_one_line(
    tmp_path: Path, suite: Path, spec: str, said: str
) -> None:
    checkers = Checkers()
    options = ServeOptions(suites=[suite], warm=[spec])
    with checkers.engine(tmp_path) as engine, pytest.raises(UserError) as exc:
        ready(service_state(engine, options), options, lambda _line: None)
    assert str(exc.value).startswith(said) and "\n" not in str(exc.value)
    assert checkers.loaded == []


@pytest.mark.parametrize(("drain_s", "grace_s"), [pytest.param(0.2, 1, id="short"), pytest.param(3.4, 3, id="long")])
def test_the_server_listens_where_asked_logs_no_request_and_drains_in_the_drain_time(
    tmp_path: Path, drain_s: float, grace_s: int
) -> None:
    options = ServeOptions(host="127.0.0.2", port=8123, drain_s=drain_s)
    with Checkers().engine(tmp_path) as engine:
        server = ready(service_state(engine, options), options, lambda _line: None)
    assert (server.config.host, server.config.port) == ("127.0.0.2", 8123)
    assert server.config.timeout_graceful_shutdown == grace_s  # whole seconds, at least one
    assert not logging.getLogger("uvicorn.access").isEnabledFor(logging.INFO)  # no line per request


def test_a_signal_makes_the_service_refuse_new_checks_at_once_and_a_second_ctrl_c_stops_it(tmp_path: Path) -> None:
    options = ServeOptions()
    with Checkers().engine(tmp_path) as engine:
        server = ready(service_state(engine, options), options, lambda _line: None)
        server.state.admit(1)  # taken while serving
        server.handle_exit(signal.SIGINT, None)
        assert server.should_exit and not server.force_exit  # in-flight checks get the drain time
        with pytest.raises(ApiError) as exc:
            server.state.admit(1)
        assert exc.value.status == 503 and exc.value.message == "the service is shutting down"
        server.handle_exit(signal.SIGINT, None)
        assert server.force_exit  # a second Ctrl-C does not wait for them


def _ask(url: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, None


@pytest.fixture()
def sigterm() -> Iterator[list[int]]:
    """SIGTERM recorded instead of ending the test run (uvicorn raises it again once it has stopped)."""
    got: list[int] = []

    def record(sig: int, _frame: FrameType | None) -> None:
        got.append(sig)

    before = signal.signal(signal.SIGTERM, record)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, before)


def test_serve_answers_as_started_until_sigterm_then_stops_every_checker(
    tmp_path: Path, suite: Path, sigterm: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PB_TOKEN", "s3cret")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    options = ServeOptions(
        port=port,
        token_env="PB_TOKEN",
        warm=["extra"],
        suites=[suite],
        drain_s=1,
        limits=ServiceLimits(max_batch=1),
        systems=(System.HOL_LIGHT,),
    )
    checkers, said, done = Checkers(), list[str](), threading.Event()
    seen: dict[str, Any] = {}
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread().ident == main  # uvicorn takes signals in the main thread

    def client() -> None:
        try:
            deadline = time.monotonic() + 30
            while _ask(url, "/v1/health", token="s3cret")[0] != 200 and time.monotonic() < deadline:
                if done.is_set():
                    return  # serve ended without listening: the test fails there
                time.sleep(0.05)
            seen["health"] = _ask(url, "/v1/health", token="s3cret")
            seen["no token"] = _ask(url, "/v1/health")[0]
            one = {"suite": "extra", "problem": "b", "proof": "ARITH_TAC"}
            seen["check"] = _ask(url, "/v1/check", one, "s3cret")
            seen["batch"] = _ask(url, "/v1/check", {"items": [one, one]}, "s3cret")[0]
        finally:
            if not done.is_set():
                signal.pthread_kill(main, signal.SIGTERM)

    helper = threading.Thread(target=client)
    helper.start()
    try:
        serve(checkers.engine(tmp_path), options, said.append)
    finally:
        done.set()
        helper.join(30)
    assert said == [
        "warming extra:a...",
        f"serving on {url} (OpenAPI schema at {url}/openapi.json); Ctrl-C or SIGTERM stops",
    ]
    code, health = seen["health"]
    assert code == 200 and health["status"] == "ok" and health["systems"] == ["hol-light"]
    assert seen["no token"] == 401 and seen["batch"] == 413
    code, check = seen["check"]
    assert code == 200 and check["verdict"]["status"] == "PASS" and check["verdict"]["service"] == url
    assert checkers.loaded == [["a"]] and checkers.all_stopped()
    assert sigterm == [signal.SIGTERM]


def test_a_start_that_fails_stops_the_checkers_it_started(tmp_path: Path, suite: Path) -> None:
    checkers = Checkers()
    options = ServeOptions(port=free_port(), warm=["extra", "nosuch"], suites=[suite])
    with pytest.raises(UserError, match="--warm nosuch"):
        serve(checkers.engine(tmp_path), options, lambda _line: None)
    assert checkers.loaded == [["a"]] and checkers.all_stopped()
