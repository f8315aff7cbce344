"""The one pool of warm checkers: started in parallel, lent for one check at a time, replaced when broken.

Every proof system's verifier (HOL Light toplevels, Lean REPLs, Ray actors running either) keeps its
checkers here, so starting, waiting for a free one, replacing a dead one and stopping them all on the
way out are written once. What a checker is, and which free one suits a check best, is the
verifier's business: the pool knows only ``start()`` and ``close()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, Literal, Protocol, TypeVar

from provebench.checking.starters import Starters
from provebench.core.errors import VerifierUnavailable


class WarmChecker(Protocol):
    """A checker the pool can start (blocking until it is ready for checks) and stop."""

    def start(self) -> object:
        """Start and load; raise if it cannot serve (what it returns is not used)."""
        ...

    def close(self) -> None:
        """Stop; idempotent, and safe while ``start`` is still running on another thread."""
        ...


C = TypeVar("C", bound=WarmChecker)


class WarmPool(Generic[C]):
    """``size`` checkers made by ``make`` (given the checker it replaces, or None); thread-safe.

    A checker is started on a thread of its own, so one that loads for minutes never holds up checks on
    those already warm. A check takes a free checker (``acquire``), then gives it back (``release``) or,
    if it broke, has it replaced (``replace``). When no checker is alive or starting, ``acquire`` raises
    ``VerifierUnavailable`` with the last start's error instead of waiting forever.
    """

    def __init__(self, make: Callable[[C | None], C], size: int, what: str) -> None:
        self._make = make
        self._size = size
        self._what = what  # "HOL Light checker", for errors
        self._cond = threading.Condition()
        self._live: list[C] = []
        self._idle: list[C] = []  # longest idle first
        self._starting: list[C] = []  # close() stops these too, even mid-load
        self._pending = 0  # starts asked for whose checker is not live or failed yet
        self._errors: list[BaseException] = []
        self._starters = Starters()  # close() waits for checkers still starting
        self._started = False
        self._closed = False
        self.restarts = 0  # checkers replaced: broken, or retired after a check

    def start(self, wait_for: Literal["all", "one"] = "all") -> None:
        """Start every checker in parallel (idempotent); return once all have started or failed (or one is ready).

        Raises the first start's error when no checker could start.
        """
        with self._cond:
            if self._closed:
                raise VerifierUnavailable(f"the {self._what}s were stopped")
            if self._started:
                return  # the first caller waits; later ones wait in acquire() for a free checker
            self._started = True
            self._pending += self._size
            for _ in range(self._size):
                self._starters.start(lambda: self._start_one(None))
            while self._pending and not self._closed and not (wait_for == "one" and self._live):
                self._cond.wait()
            if self._closed:
                raise VerifierUnavailable(f"the {self._what}s were stopped")
            if not self._live:
                raise self._errors[0] if self._errors else VerifierUnavailable(f"no {self._what} started")

    def _start_one(self, replacing: C | None) -> None:
        try:
            checker = self._make(replacing)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for a checker
            self._started_or_failed(None, exc)
            return
        with self._cond:
            if self._closed:
                self._pending -= 1
                self._cond.notify_all()
                return
            self._starting.append(checker)
        try:
            checker.start()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for a checker
            checker.close()
            self._started_or_failed(checker, exc)
            return
        self._started_or_failed(checker, None)

    def _started_or_failed(self, checker: C | None, error: BaseException | None) -> None:
        with self._cond:
            self._pending -= 1
            if checker is not None and checker in self._starting:
                self._starting.remove(checker)
            if error is not None:
                self._errors.append(error)
            elif checker is not None:
                if self._closed:
                    checker.close()
                else:
                    self._live.append(checker)
                    self._idle.append(checker)
            self._cond.notify_all()

    def acquire(self, prefer: Callable[[Sequence[C]], C] | None = None) -> C:
        """A free checker (``prefer`` picks among the free ones; default: the longest idle); waits for one."""
        self.start()
        with self._cond:
            while not self._idle:
                if self._closed:
                    raise VerifierUnavailable(f"the {self._what}s were stopped")
                if not self._live and not self._pending:
                    error = self._errors[-1] if self._errors else None
                    raise VerifierUnavailable(f"no {self._what} could start: {error}") from error
                self._cond.wait()
            checker = prefer(self._idle) if prefer is not None else self._idle[0]
            self._idle.remove(checker)
            return checker

    def acquire_this(self, checker: C) -> C:
        """That very checker, once it is free (a proof session lives in one); raises if it is gone."""
        with self._cond:
            while checker not in self._idle:
                if self._closed or checker not in self._live:
                    raise VerifierUnavailable(f"the {self._what} this session lived in is gone")
                self._cond.wait()
            self._idle.remove(checker)
            return checker

    def release(self, checker: C) -> None:
        """Give a checker back for the next check."""
        with self._cond:
            if checker in self._live:
                self._idle.append(checker)
            self._cond.notify_all()

    def replace(self, dead: C) -> None:
        """Stop a checker (broken, or retired after what it ran) and start another in its place."""
        dead.close()
        with self._cond:
            self.restarts += 1
            if dead in self._live:
                self._live.remove(dead)
            if self._closed:
                return
            self._pending += 1
        self._starters.start(lambda: self._start_one(dead))

    @property
    def live(self) -> list[C]:
        """The checkers started and not stopped (busy or free)."""
        with self._cond:
            return list(self._live)

    def close(self) -> None:
        """Stop every checker, those still starting too, and wait briefly for their start threads."""
        with self._cond:
            self._closed = True
            checkers = self._live + self._starting
            self._live, self._idle, self._starting = [], [], []
            self._cond.notify_all()
        for c in checkers:
            c.close()
        self._starters.wait()
