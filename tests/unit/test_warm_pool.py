"""The one warm pool every verifier keeps its checkers in: start, lend, replace, stop.

The checkers here are plain objects with the two methods the pool knows (``start``, ``close``): the pool's
rules do not depend on what a checker is, and the real checkers are tested through their verifiers.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from provebench.checking.warm_pool import WarmPool
from provebench.core.errors import VerifierUnavailable


class Checker:
    """Starts after ``gate`` is set (at once by default), or fails to start with ``error``."""

    made = 0

    def __init__(self, error: BaseException | None = None, gate: threading.Event | None = None) -> None:
        Checker.made += 1
        self.serial = Checker.made
        self.error = error
        self.gate = gate
        self.started = False
        self.closed = 0

    def start(self) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        if self.closed:
            raise VerifierUnavailable("stopped while loading")
        self.started = True

    def close(self) -> None:
        self.closed += 1
        if self.gate is not None:
            self.gate.set()  # as a real checker's load ends when its container is removed


def test_every_checker_starts_in_parallel_and_each_is_lent_to_one_check_at_a_time() -> None:
    gate = threading.Event()
    made: list[Checker] = []

    def make(_dead: Checker | None) -> Checker:
        made.append(Checker(gate=gate))
        return made[-1]

    pool = WarmPool(make, 3, "test checker")
    starting = threading.Thread(target=pool.start)
    starting.start()
    time.sleep(0.2)
    assert len(made) == 3 and not any(c.started for c in made)  # all three loading at once
    gate.set()
    starting.join(5)
    lent = [pool.acquire() for _ in range(3)]
    assert sorted(id(c) for c in lent) == sorted(id(c) for c in made)
    with ThreadPoolExecutor(1) as waiting:
        fourth = waiting.submit(pool.acquire)
        time.sleep(0.2)
        assert not fourth.done()  # every checker busy: the fourth check waits
        pool.release(lent[1])
        assert fourth.result(5) is lent[1]
    pool.close()
    assert all(c.closed >= 1 for c in made)


def test_prefer_chooses_among_the_free_checkers_and_the_default_is_the_longest_idle() -> None:
    pool = WarmPool(lambda _dead: Checker(), 3, "test checker")
    pool.start()
    a, b, c = pool.acquire(), pool.acquire(), pool.acquire()
    for x in (b, c, a):
        pool.release(x)
    assert pool.acquire() is b
    assert pool.acquire(lambda free: free[-1]) is a
    pool.close()


def test_when_no_checker_can_start_start_raises_the_first_error_and_acquire_says_why() -> None:
    pool = WarmPool(lambda _dead: Checker(error=VerifierUnavailable("image missing")), 2, "test checker")
    with pytest.raises(VerifierUnavailable, match="image missing"):
        pool.start()
    with pytest.raises(VerifierUnavailable, match="no test checker could start"):
        pool.acquire()


def test_a_replaced_checker_is_closed_and_another_is_made_knowing_which_it_replaces() -> None:
    replaced: list[Checker | None] = []

    def make(dead: Checker | None) -> Checker:
        replaced.append(dead)
        return Checker()

    pool = WarmPool(make, 1, "test checker")
    first = pool.acquire()
    pool.replace(first)
    second = pool.acquire()
    assert second is not first and first.closed == 1 and second.started
    assert replaced == [None, first] and pool.restarts == 1 and pool.live == [second]
    pool.release(second)
    pool.release(first)  # a stale hand-back of the replaced checker: it is not lent again
    assert pool.acquire(lambda free: free[-1]) is second
    pool.close()


def test_a_check_waiting_for_a_replacement_that_cannot_start_gets_its_error_not_a_hang() -> None:
    made = 0

    def make(_dead: Checker | None) -> Checker:
        nonlocal made
        made += 1
        return Checker(error=None if made == 1 else VerifierUnavailable("the node is gone"))

    pool = WarmPool(make, 1, "test checker")
    only = pool.acquire()
    pool.replace(only)
    with pytest.raises(VerifierUnavailable, match="the node is gone"):
        pool.acquire()


def test_close_stops_checkers_still_starting_and_wakes_waiting_checks() -> None:
    gate = threading.Event()
    made: list[Checker] = []

    def make(_dead: Checker | None) -> Checker:
        made.append(Checker(gate=gate))
        return made[-1]

    pool = WarmPool(make, 1, "test checker")
    with ThreadPoolExecutor(1) as waiting:
        check = waiting.submit(pool.acquire)
        time.sleep(0.2)
        pool.close()
        assert made[0].closed >= 1 and not made[0].started  # stopped mid-load
        with pytest.raises(VerifierUnavailable):
            check.result(5)
    assert pool.live == []
    with pytest.raises(VerifierUnavailable, match="were stopped"):
        pool.start()
