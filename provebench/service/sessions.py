"""Proof sessions over HTTP (``/v1/sessions``): the service's one ``ProofSessions`` behind the same limits.

Open a session on a suite's problem (by name, as ``/v1/check`` names it), step, undo, read the goals,
search the context's theorems, check a proof (the ordinary check, the only verdict), close. Every
request that needs the session's checker counts in the service's queue (a full queue is 429, a
draining service 503) and runs in a thread of the sessions' own; an unknown or expired session is 404,
too many open 429, a session whose checker died 503 (that session is gone; the service serves on).
Idle sessions are closed by a background sweep (and on every session request); all at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from provebench.checking.checked import Checked
from provebench.checking.proof_sessions import NoSuchSession, TooManySessions
from provebench.core.model import System
from provebench.core.proof_states import SearchResult
from provebench.service.models import CheckResult, ErrorReply
from provebench.service.session_models import (
    SearchRequest,
    SessionCheck,
    SessionOpen,
    SessionReply,
    SessionStep,
    SessionView,
    StepRequest,
)
from provebench.service.state import ApiError, BoundedRoute, ServiceState, check_size
from provebench.service.targets import resolve

log = logging.getLogger(__name__)

SessionId = Annotated[str, PathParam(max_length=64, description="the id POST /v1/sessions answered")]
RETRY_AFTER_S = 30  # a full house of sessions frees up as clients close theirs or they expire
CLOSE_WITHIN_S = 5.0  # at shutdown, sessions still busy are left to the checkers' removal
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorReply} for code in (400, 401, 404, 409, 413, 422, 429, 503)
}

T = TypeVar("T")


def sweep_every_s(idle_s: float) -> float:
    """How often idle sessions are looked for: a quarter of the idle time (so one lives at most 1.25 times it)."""
    return min(60.0, max(0.05, idle_s / 4))


async def sweep_idle(state: ServiceState) -> None:
    """Close idle sessions now and then, until cancelled (at shutdown)."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(sweep_every_s(state.sessions.idle_s))
        try:
            closed = await loop.run_in_executor(state.session_threads, state.sessions.close_idle)
        except RuntimeError:
            return  # the threads are shut down: the service is stopping
        except Exception as exc:  # noqa: BLE001 - one failed sweep must not end the sweeping
            log.warning("closing idle proof sessions failed: %s", exc)
            continue
        if closed:
            log.info("closed %d idle proof session(s)", len(closed))


async def close_sessions(state: ServiceState) -> None:
    """End every session at shutdown (within a few seconds: the checkers' removal ends any still busy)."""
    try:
        await asyncio.wait_for(asyncio.to_thread(state.sessions.close_all), CLOSE_WITHIN_S)
    except TimeoutError:
        log.warning("proof sessions still busy at shutdown: they end with their checkers")
    state.session_threads.shutdown(wait=False, cancel_futures=True)


@contextmanager
def _session_errors() -> Iterator[None]:
    """The session manager's refusals as the service's statuses."""
    try:
        yield
    except NoSuchSession as exc:
        raise ApiError(404, str(exc)) from None
    except TooManySessions as exc:
        raise ApiError(429, str(exc), {"Retry-After": str(RETRY_AFTER_S)}) from None


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def sessions_router(state: ServiceState) -> APIRouter:
    """The ``/v1/sessions`` routes on ``state``'s sessions."""
    router = APIRouter(route_class=BoundedRoute, tags=["proof sessions"])
    sessions = state.sessions

    async def on_checker(action: Callable[[], T]) -> T:
        """``action`` in a session thread, counted in the queue while it runs (refused when full or draining)."""
        state.admit(1)
        try:
            with _session_errors():
                return await asyncio.get_running_loop().run_in_executor(state.session_threads, action)
        except RuntimeError as exc:
            if "shutdown" in str(exc):  # the executor's refusal once the service is stopping
                raise ApiError(503, "the service is shutting down") from None
            raise
        finally:
            state.queued -= 1

    @router.post("/v1/sessions", response_model=SessionReply, status_code=201, responses=ERRORS)
    async def open_session(body: SessionOpen) -> SessionReply:
        """Open a proof session on a problem: its id and the goal (each step gets the check's time limit)."""
        problem, limit = resolve(state, body, body.timeout_s)
        if problem.system is not System.HOL_LIGHT:  # the only checker with sessions so far
            raise ApiError(422, f"proof sessions are for HOL Light problems, not {problem.system.value}")
        sid, outcome = await on_checker(partial(sessions.open, problem, limit))
        if sid is None:
            why = _one_line(outcome.messages[0]) if outcome.messages else "no message"
            raise ApiError(422, f"the goal of {problem.id} did not open ({outcome.status} {outcome.reason}): {why}")
        return SessionReply.of(sid, outcome)

    @router.get("/v1/sessions/{session}", response_model=SessionView, responses=ERRORS)
    async def view(session: SessionId) -> SessionView:
        """The goals now, the steps so far and, once no goal is left, the proof the steps make."""

        def look() -> SessionView:
            outcome = sessions.goals(session)
            if not outcome.ok:
                raise ApiError(503, f"the goals of proof session {session} cannot be read: {outcome.reason}")
            steps = sessions.steps(session)
            return SessionView(
                session=session,
                problem=sessions.problem(session).id,
                goals=outcome.goals,
                steps=[SessionStep.of(s) for s in steps],
                solved=outcome.solved,
                script=sessions.script(session),
            )

        return await on_checker(look)

    @router.post("/v1/sessions/{session}/step", response_model=SessionReply, responses=ERRORS)
    async def step(session: SessionId, body: StepRequest) -> SessionReply:
        """Apply a tactic to the first goal; on failure (``ok`` false, and why) the session is as it was."""
        check_size(state, body.tactic)
        outcome = await on_checker(partial(sessions.step, session, body.tactic))
        state.metrics.stepped(outcome.status)
        return SessionReply.of(session, outcome)

    @router.post("/v1/sessions/{session}/undo", response_model=SessionReply, responses=ERRORS)
    async def undo(session: SessionId) -> SessionReply:
        """Go back one step (``ok`` false with ``nothing-to-undo`` at the goal)."""
        return SessionReply.of(session, await on_checker(partial(sessions.undo, session)))

    @router.post("/v1/sessions/{session}/search", response_model=SearchResult, responses=ERRORS)
    async def search(session: SessionId, body: SearchRequest) -> SearchResult:
        """Theorems of the session's context by name (a substring) or by a term pattern; a proof may use them."""
        check_size(state, body.text)
        return await on_checker(partial(sessions.search, session, body.by, body.text))

    @router.post("/v1/sessions/{session}/check", response_model=CheckResult, responses=ERRORS)
    async def check(session: SessionId, body: SessionCheck | None = None) -> Response:
        """The ordinary check of ``proof`` (default: the steps' proof) on the session's problem: the verdict."""
        proof = body.proof if body is not None else None
        if proof is not None:
            check_size(state, proof)

        def checked() -> Checked:
            if proof is None and sessions.script(session) is None:
                raise ApiError(409, f"proof session {session} has goals left: step until none is, or give a proof")
            return sessions.check(session, proof)

        result = await on_checker(checked)
        state.metrics.checked(result.verdict)
        reply = CheckResult(verdict=state.stamped(result), retries=result.retries)
        return JSONResponse(reply.model_dump(mode="json"))

    @router.delete("/v1/sessions/{session}", status_code=204, responses=ERRORS)
    async def close(session: SessionId) -> Response:
        """End the session (an unknown or expired one is 404)."""

        def end() -> None:
            sessions.problem(session)  # a session that is not open is 404, as on every other route
            sessions.close(session)

        await on_checker(end)
        return Response(status_code=204)

    return router
