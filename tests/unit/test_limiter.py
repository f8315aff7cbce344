"""The adaptive bound on prover requests in flight: halved by a 429, widened by successes, within 1..ceiling."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from provebench.provers.limiter import AdaptiveLimiter


async def _one(limiter: AdaptiveLimiter, outcome: str) -> None:
    async with limiter.slot() as slot:
        slot.throttled() if outcome == "429" else slot.succeeded()


def test_the_window_starts_at_the_ceiling() -> None:
    limiter = AdaptiveLimiter(8)
    assert (limiter.window, limiter.describe()) == (8, "8/8")


def test_a_429_halves_the_window() -> None:
    limiter = AdaptiveLimiter(8)
    asyncio.run(_one(limiter, "429"))
    assert (limiter.window, limiter.throttles) == (4, 1)


def test_429s_in_a_row_halve_it_down_to_one_and_no_lower() -> None:
    limiter = AdaptiveLimiter(8)

    async def go() -> None:
        for _ in range(5):
            await _one(limiter, "429")

    asyncio.run(go())
    assert (limiter.window, limiter.throttles) == (1, 5)


def test_429s_of_requests_sent_before_a_halving_do_not_halve_it_again() -> None:
    limiter = AdaptiveLimiter(8)

    async def go() -> None:
        async with limiter.slot() as a, limiter.slot() as b, limiter.slot() as c:
            a.throttled()
            b.throttled()
            c.throttled()

    asyncio.run(go())
    assert (limiter.window, limiter.throttles) == (4, 3)


def test_a_windows_worth_of_successes_widens_it_by_one() -> None:
    limiter = AdaptiveLimiter(8)

    async def go() -> list[int]:
        await _one(limiter, "429")  # 4
        seen = []
        for _ in range(4 + 5):
            await _one(limiter, "ok")
            seen.append(limiter.window)
        return seen

    assert asyncio.run(go()) == [4, 4, 4, 5, 5, 5, 5, 5, 6]


def test_successes_never_widen_it_past_the_ceiling() -> None:
    limiter = AdaptiveLimiter(2)

    async def go() -> None:
        await _one(limiter, "429")
        for _ in range(50):
            await _one(limiter, "ok")

    asyncio.run(go())
    assert limiter.window == 2


def test_no_more_requests_are_in_flight_than_the_window_holds() -> None:
    limiter = AdaptiveLimiter(4)
    over: list[tuple[int, int]] = []

    async def request(outcome: str) -> None:
        async with limiter.slot() as slot:
            if limiter.in_flight > limiter.window:
                over.append((limiter.in_flight, limiter.window))
            await asyncio.sleep(0)
            slot.throttled() if outcome == "429" else slot.succeeded()

    async def go() -> None:
        await request("429")  # the window is 2 now
        await asyncio.gather(*(request("ok") for _ in range(12)))

    asyncio.run(go())
    assert over == []
    assert (limiter.window, limiter.in_flight) == (4, 0)  # 2 successes widened it to 3, 3 more to 4


def test_a_narrowed_window_lets_the_requests_in_flight_finish_and_holds_back_the_next() -> None:
    limiter = AdaptiveLimiter(4)

    async def go() -> None:
        held = [AsyncExitStack() for _ in range(3)]
        slots = [await stack.enter_async_context(limiter.slot()) for stack in held]
        slots[0].throttled()  # the window is 2, with 3 requests in flight: they go on
        late = asyncio.create_task(_one(limiter, "ok"))
        await asyncio.sleep(0.01)
        assert not late.done()
        await held[2].aclose()  # 2 in flight: still no place
        await asyncio.sleep(0.01)
        assert not late.done()
        await held[1].aclose()  # 1 in flight: the late request goes
        await asyncio.wait_for(late, 1)
        await held[0].aclose()

    asyncio.run(go())
    assert (limiter.window, limiter.in_flight) == (2, 0)


def test_a_cancelled_waiter_gives_its_place_to_the_next() -> None:
    limiter = AdaptiveLimiter(1)

    async def go() -> bool:
        async with limiter.slot():
            waiting = asyncio.create_task(_one(limiter, "ok"))
            after = asyncio.create_task(_one(limiter, "ok"))
            await asyncio.sleep(0)
            waiting.cancel()
        await asyncio.wait_for(after, 1)
        return waiting.cancelled()

    assert asyncio.run(go())
    assert limiter.in_flight == 0


def test_a_ceiling_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimiter(0)
