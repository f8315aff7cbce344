"""Stopping checkers that are still loading: their containers are gone by the time close() returns.

The launcher here is a test double of the container launcher only: its "toplevel" is a process that
never answers (as HOL Light while it loads) and its cleanup stands for removing the container, slowly,
as the Docker engine does. The real containers are tested in tests/integration/test_cli_checks.py.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable

import pytest

from provebench.checking.starters import Starters
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, System
from provebench.systems.hol_light.session import HolLightSession, LaunchedToplevel
from provebench.systems.hol_light.verifier import HolLightVerifier

SILENT_TOPLEVEL = [sys.executable, "-c", "import time; time.sleep(60)"]


class SlowRemovalLauncher:
    """Launches silent toplevels; each removal takes a while. A ``gate`` holds launch() until it is set."""

    harness_dir = "/nowhere"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self._names = itertools.count()  # next() is atomic: two checkers start at once
        self.making: list[bool] = []  # one per launch() under way or done
        self.launched: list[str] = []
        self.removed: list[str] = []

    def launch(self) -> LaunchedToplevel:
        self.making.append(True)
        if self.gate is not None:
            self.gate.wait(60)  # the container is still being made
        name = f"c{next(self._names)}"
        self.launched.append(name)

        def remove() -> None:
            # Removal is slow, as the engine's: a close() that did not wait for it would return first. This
            # delay only widens that window; a close() that waits passes however long it takes.
            time.sleep(0.3)
            self.removed.append(name)

        return LaunchedToplevel(argv=SILENT_TOPLEVEL, cwd=None, cleanup=remove, name=name)


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.01)


@pytest.mark.parametrize("attempt", range(5))  # the loading thread's own close() raced the caller's
def test_close_returns_once_a_loading_checker_is_removed(attempt: int) -> None:
    launcher = SlowRemovalLauncher()
    session = HolLightSession(launcher, context="", load_timeout_s=60.0)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            session.start()
        except VerifierUnavailable as exc:  # its toplevel went away: the caller closed it
            errors.append(exc)

    loader = threading.Thread(target=start, daemon=True)
    loader.start()
    _wait_for(lambda: session._proc is not None, "the toplevel started")
    session.close()
    assert launcher.removed == ["c0"]  # not still being removed by the loading thread
    loader.join(10)
    assert errors and launcher.removed == ["c0"]  # removed once


def test_close_waits_for_a_checker_whose_container_is_still_being_made() -> None:
    gate = threading.Event()
    launcher = SlowRemovalLauncher(gate)
    info = CheckerInfo(image="double", digest="sha256:double", system=System.HOL_LIGHT, version="double")
    verifier = HolLightVerifier(launcher, info, checkers=2)
    errors: list[BaseException] = []

    def prepare() -> None:
        try:
            verifier.prepare()
        except VerifierUnavailable as exc:  # no checker started: they were stopped
            errors.append(exc)

    preparing = threading.Thread(target=prepare, daemon=True)
    preparing.start()
    _wait_for(lambda: len(launcher.making) == 2, "both checkers are making their containers")

    def made_after_close_began() -> None:
        _wait_for(lambda: verifier._pool._closed, "close() began")
        gate.set()

    threading.Thread(target=made_after_close_began, daemon=True).start()
    verifier.close()
    assert sorted(launcher.removed) == sorted(launcher.launched) == ["c0", "c1"]
    preparing.join(10)
    assert errors


def test_starters_wait_for_their_threads_and_not_for_the_caller() -> None:
    starters = Starters()
    ended: list[str] = []

    def slow() -> None:
        time.sleep(0.2)  # only widens the window a wait() that did not wait would fall in
        ended.append("slow")

    starters.start(slow)
    starters.start(starters.wait)  # a starter that waits does not wait for itself
    starters.wait()
    assert ended == ["slow"]


def test_starters_stop_waiting_at_the_limit() -> None:
    starters = Starters()
    release = threading.Event()

    def held() -> None:
        release.wait(120)

    starters.start(held)
    t0 = time.monotonic()
    starters.wait(timeout_s=0.2)
    # The thread is held until after this line: wait() returned at its limit, not when the thread ended. The
    # upper bound only has to stay below the thread's 120 s; 30 s leaves a loaded machine 29.8 s to spare.
    assert 0.2 <= time.monotonic() - t0 < 30
    release.set()
