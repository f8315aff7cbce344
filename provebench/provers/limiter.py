"""How many prover requests are in flight at once: a window that backs off on 429s and recovers (AIMD).

The window starts at the ceiling (the run's ``prover_connections``). A request the server throttles (429)
halves it, down to one; every window's worth of successful requests widens it by one, up to the ceiling.
429s that answer requests sent before the last halving are the same overload, already answered: they
do not halve it again (else a burst of n throttled requests in flight would take it to one at once).
A request waits for a free place in the window before it is sent; a narrowed window lets the requests
already in flight finish.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Slot:
    """One request's place in the window: it says how the request went."""

    def __init__(self, limiter: AdaptiveLimiter, epoch: int) -> None:
        self._limiter = limiter
        self._epoch = epoch

    def throttled(self) -> None:
        """The server refused the request for load (a 429)."""
        self._limiter._throttled(self._epoch)

    def succeeded(self) -> None:
        """The server answered the request."""
        self._limiter._succeeded()


class AdaptiveLimiter:
    """An additive-increase, multiplicative-decrease bound on requests in flight, never above ``ceiling``."""

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError("the ceiling of requests in flight must be at least 1")
        self.ceiling = ceiling
        self.window = ceiling
        self.in_flight = 0
        self.throttles = 0  # 429s seen in all
        self._epoch = 0  # halvings so far: a slot remembers the epoch it was taken in
        self._answered = 0  # successes since the window last changed
        self._waiters: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """A place in the window for one request, held while the request is out."""
        await self._acquire()
        try:
            yield Slot(self, self._epoch)
        finally:
            self.in_flight -= 1
            self._wake()

    async def _acquire(self) -> None:
        while self.in_flight >= self.window:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif not waiter.cancelled():  # woken, then cancelled: its place goes to the next one
                    self._wake()
                raise
        self.in_flight += 1

    def _wake(self) -> None:
        free = self.window - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    def _throttled(self, epoch: int) -> None:
        self.throttles += 1
        if epoch != self._epoch:  # sent before the last halving: that overload is answered already
            return
        self.window = max(1, self.window // 2)
        self._epoch += 1
        self._answered = 0

    def _succeeded(self) -> None:
        if self.window >= self.ceiling:
            return
        self._answered += 1
        if self._answered >= self.window:
            self.window += 1
            self._answered = 0
            self._wake()

    def describe(self) -> str:
        """The window for a progress line, e.g. ``4/8``."""
        return f"{self.window}/{self.ceiling}"
