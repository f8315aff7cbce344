"""The engine: contexts loaded on demand and kept within the memory budget, least recently used idle ones
stopped first, loads that hold up no check on another context, infrastructure retries.

The verifiers are scripted doubles (this is about which context loads and stops when); the same
on real HOL Light checkers is in tests/integration/test_engine_real.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import pytest

from provebench.checking.engine import Engine
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

# Each context's checker takes 1000 + 1000 MB: a budget of 4500 MB holds two.
SETTINGS = Settings(checkers=1, memory_mb=1000, container_headroom_mb=1000, memory_budget_mb=4500, infra_backoff_s=0.01)


def _p(pid: str, context: str) -> Problem:
    return Problem(
        id=pid, suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=5, checker_image="x", context=context
    )


class Contexts:
    """A verifier double per context, recording loads and stops; a context's load can be held."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.made: list[str] = []  # contexts whose verifier was made (the pool does it as it goes to load one)
        self.hold: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def factory(self, problems: Sequence[Problem], _settings: Settings) -> Verifier:
        outer = self
        name = problems[0].context
        with self.lock:
            self.made.append(name)

        class Double(ScriptedVerifierDouble):
            def prepare(self) -> None:
                with outer.lock:
                    outer.events.append(f"load {name}")
                if name in outer.hold:
                    outer.hold[name].wait(60)
                super().prepare()

            def close(self) -> None:
                with outer.lock:
                    outer.events.append(f"stop {name}")
                super().close()

        return Double(lambda p, proof, n: verdict(Status.PASS, Reason.PROVED))


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.01)


def _state(engine: Engine, context: str) -> str:
    (state,) = [s.state for s in engine.status() if s.key[2] == context]
    return state


def test_contexts_load_on_demand_and_the_least_recently_used_idle_one_makes_room() -> None:
    c = Contexts()
    engine = Engine(SETTINGS, make=c.factory)
    a, b, d = _p("a", "A"), _p("b", "B"), _p("d", "D")
    engine.plan([a, b, d])
    assert c.events == [] and engine.checker(a).image == "double"  # the identity is known before any load
    assert engine.check(a, "x").verdict.passed and engine.check(b, "x").verdict.passed
    engine.check(a, "x")  # A is now the most recently used
    assert engine.check(d, "x").verdict.passed  # a third does not fit: B, least recently used, goes
    assert c.events == ["load A", "load B", "stop B", "load D"]
    states = {s.key[2]: (s.state, s.checks) for s in engine.status()}
    assert states == {"A": ("warm", 2), "B": ("cold", 1), "D": ("warm", 1)}
    assert engine.check(b, "x").verdict.passed and c.events[-2:] == ["stop A", "load B"]
    engine.close()
    assert sorted(c.events[-2:]) == ["stop B", "stop D"]


def test_a_load_holds_up_no_check_on_a_warm_context_and_the_budget_is_never_passed() -> None:
    c = Contexts()
    c.hold["B"] = threading.Event()
    engine = Engine(SETTINGS, make=c.factory)
    a, b, d = _p("a", "A"), _p("b", "B"), _p("d", "D")
    engine.plan([a, b, d])
    engine.check(a, "x")
    loading = threading.Thread(target=engine.check, args=(b, "x"))
    loading.start()
    _wait_for(lambda: "load B" in c.events, "B started loading")
    # B's load is held until after these checks: a check that waited for it would get its verdict only once
    # the hold gives up (60 s), and B would be warm by then.
    assert engine.check(a, "y").verdict.passed
    assert _state(engine, "B") == "loading"
    # D needs room: A is idle and goes; B (loading) stays. Memory never holds three.
    assert engine.check(d, "z").verdict.passed and "stop A" in c.events and "stop B" not in c.events
    c.hold["B"].set()
    loading.join(60)
    assert not loading.is_alive()
    engine.close()


def test_a_context_waits_for_room_while_the_others_are_busy() -> None:
    c = Contexts()
    engine = Engine(SETTINGS.model_copy(update={"memory_budget_mb": 2500}), make=c.factory)  # one fits
    a, b = _p("a", "A"), _p("b", "B")
    engine.plan([a, b])
    checking, release = threading.Event(), threading.Event()

    def slow(problem: Problem, proof: str, n: int) -> Verdict:
        checking.set()
        release.wait(60)
        return verdict(Status.PASS, Reason.PROVED)

    engine.check(a, "warm A")
    engine.pool.verifier(a).script = slow  # type: ignore[attr-defined]
    busy = threading.Thread(target=engine.check, args=(a, "x"))
    busy.start()
    assert checking.wait(60), "the check on A never started"
    got: list[Verdict] = []
    waiter = threading.Thread(target=lambda: got.append(engine.check(b, "y").verdict))
    waiter.start()
    # The pool makes B's verifier and decides, under its lock, to load B or to wait for room; status() takes
    # that lock, so once B's verifier is made it sees the decision.
    _wait_for(lambda: "B" in c.made, "the check on B reached the pool")
    assert _state(engine, "B") == "cold" and "load B" not in c.events  # A is busy: B may not load beside it
    release.set()
    busy.join(60)
    waiter.join(60)
    assert got and got[0].passed and c.events == ["load A", "stop A", "load B"]
    engine.close()


def test_infrastructure_failures_are_retried_with_backoff_and_counted() -> None:
    calls: list[int] = []

    def flaky(problem: Problem, proof: str, n: int) -> Verdict | VerifierUnavailable:
        calls.append(n)
        return VerifierUnavailable("lost the container") if n <= 2 else verdict(Status.PASS, Reason.PROVED)

    engine = Engine(SETTINGS, make=lambda _p, _s: ScriptedVerifierDouble(flaky), infra_retries=2)
    got = engine.check(_p("a", "A"), "x")
    assert (got.verdict.status, got.retries, calls) == (Status.PASS, 2, [1, 2, 3])

    def down(problem: Problem, proof: str, n: int) -> Verdict | VerifierUnavailable:
        return VerifierUnavailable("lost the container")

    engine = Engine(SETTINGS, make=lambda _p, _s: ScriptedVerifierDouble(down), infra_retries=1)
    got = engine.check(_p("a", "A"), "x")
    assert (got.verdict.status, got.verdict.reason, got.retries) == (Status.ERROR, Reason.CHECKER_UNAVAILABLE, 1)
    assert "lost the container" in got.verdict.messages[0]
    # An ERROR verdict is retried too (out of memory), but not a goal that does not evaluate.
    seen: list[Reason] = []

    def errors(problem: Problem, proof: str, n: int) -> Verdict:
        reason = Reason.BAD_GOAL if proof == "bad goal" else Reason.CHECKER_OUT_OF_MEMORY
        seen.append(reason)
        return verdict(Status.ERROR, reason)

    engine = Engine(SETTINGS, make=lambda _p, _s: ScriptedVerifierDouble(errors), infra_retries=2)
    assert engine.check(_p("a", "A"), "x").retries == 2 and seen == [Reason.CHECKER_OUT_OF_MEMORY] * 3
    assert engine.check(_p("a", "A"), "bad goal").retries == 0
    assert asyncio.run(engine.acheck(_p("a", "A"), "x")).retries == 2  # the same from asyncio


def test_a_context_that_cannot_load_is_not_loaded_again_per_check() -> None:
    loads: list[int] = []

    class Broken(ScriptedVerifierDouble):
        def prepare(self) -> None:
            loads.append(1)
            raise VerifierUnavailable("the image does not start")

    passes = verdict(Status.PASS, Reason.PROVED)
    engine = Engine(SETTINGS, make=lambda _p, _s: Broken(lambda *_: passes))
    for _ in range(3):
        got = engine.check(_p("a", "A"), "x")
        assert got.verdict.status is Status.ERROR and "does not start" in got.verdict.messages[0]
    assert loads == [1]


def test_a_check_after_close_is_an_infrastructure_error() -> None:
    engine = Engine(SETTINGS, make=Contexts().factory, infra_retries=0)
    engine.close()
    got = engine.check(_p("a", "A"), "x")
    assert got.verdict.status is Status.ERROR and "stopped" in got.verdict.messages[0]


def test_naming_checkers_one_problem_at_a_time_leaves_every_problem_planned() -> None:
    # Selftests ask each journalled problem's checker before checking the rest: a verifier made to
    # name a checker (not started) is made again with every problem planned since.
    seen: list[list[str]] = []

    def factory(problems: Sequence[Problem], _settings: Settings) -> Verifier:
        seen.append([p.id for p in problems])
        return ScriptedVerifierDouble(lambda p, proof, n: verdict(Status.PASS, Reason.PROVED))

    first, second = (_p(pid, "a").model_copy(update={"template": "t.ml"}) for pid in ("p1", "p2"))
    engine = Engine(SETTINGS, factory)
    engine.checker(first)
    engine.checker(second)
    assert [c.verdict.status for c in engine.map_checked([(first, "x"), (second, "x")])] == [Status.PASS] * 2
    assert seen[-1] == ["p1", "p2"]
    engine.close()


def test_an_async_check_after_close_is_an_infrastructure_error() -> None:
    engine = Engine(
        SETTINGS, lambda _p, _s: ScriptedVerifierDouble(lambda p, proof, n: verdict(Status.PASS, Reason.PROVED))
    )
    engine.close()
    got = asyncio.run(engine.acheck(_p("a", "A"), "x"))
    assert (got.verdict.status, got.verdict.reason) == (Status.ERROR, Reason.CHECKER_UNAVAILABLE)


def test_checkers_default_to_one_per_core_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from provebench.checking.engine import starting_line

    monkeypatch.delenv("PROVEBENCH_CHECKERS", raising=False)
    default = Settings()
    assert default.checkers == max(1, min(64, os.cpu_count() or 1))
    assert "(one per core: --checkers N to change)" in starting_line(default, System.HOL_LIGHT)
    chosen = Settings(checkers=3)
    assert "starting up to 3 warm hol-light checker(s), as many" in starting_line(chosen, System.HOL_LIGHT)
    assert starting_line(Settings(server="http://127.0.0.1:1"), System.HOL_LIGHT).startswith("checking through")
