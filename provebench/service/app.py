"""The checker service: the engine behind a versioned JSON API on a maintained ASGI stack (FastAPI).

``create_app(state)`` builds the application from an explicit ``ServiceState`` (no module
globals): ``/v1/health``, ``/v1/checkers``, ``/v1/warm``, ``/v1/check`` (one proof, or a batch
whole or streamed as NDJSON), ``/v1/sessions`` (proof sessions: ``sessions.py``), ``/metrics``
(Prometheus text) and Kimina Lean Server's routes, with the OpenAPI schema FastAPI serves. Every
error is one line of JSON (``{"error": ...}``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Generator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provebench import __version__
from provebench.checking.checked import Checked
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem
from provebench.core.settings import memory_budget_mb
from provebench.service.kimina import kimina_router
from provebench.service.models import (
    Checkers,
    CheckItem,
    CheckReply,
    CheckRequest,
    CheckResult,
    ErrorReply,
    Health,
    Identity,
    Target,
    WarmContext,
)
from provebench.service.sessions import close_sessions, sessions_router, sweep_idle
from provebench.service.state import ApiError, BoundedRoute, ServiceState, check_size, validated
from provebench.service.targets import resolve

log = logging.getLogger(__name__)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one-line JSON body of every error."""
    return JSONResponse(ErrorReply(error=message).model_dump(), status_code=status, headers=headers)


def _parse(data: Any) -> tuple[CheckRequest, bool]:
    """The request, and whether it was one proof (its fields at top level) rather than a batch."""
    if isinstance(data, dict) and "items" not in data:
        top = dict(data)
        timeout_s = top.pop("timeout_s", None)
        item = validated(CheckItem, top)
        return validated(CheckRequest, {"items": [item], "timeout_s": timeout_s}), True
    return validated(CheckRequest, data), False


class BearerAuth:
    """Refuses every request without the service's bearer token, the schema and docs included (docs/guides/service.md).

    A plain ASGI middleware, added only when a token is set: Starlette's ``BaseHTTPMiddleware``
    (``@app.middleware``) costs every request a task and a body stream, measurable on 10 ms checks.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401 in the service's one-line error shape."""
        if scope["type"] == "http":
            given = Headers(scope=scope).get("authorization", "")
            if not secrets.compare_digest(given.encode(), self.expected):
                refused = error_response(401, "a bearer token is needed (Authorization: Bearer TOKEN)")
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Drained:
    """A request that shutdown cancels answers 503 (if it has not begun answering) and ends quietly.

    uvicorn cancels the requests still running when the drain time is over (a checker still loading, a
    long check): that is a clean shutdown, not a fault, so it leaves no traceback in the log.
    """

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; if it is cancelled while the service drains, answer 503 or stop."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if not self.state.draining:
                raise
            if not started:  # (a stream cut here stays unfinished: its client sees it was cut)
                await error_response(503, "the service is shutting down")(scope, receive, send)


def create_app(state: ServiceState) -> FastAPI:
    """The ASGI application of the checker service."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(sweep_idle(state))  # idle proof sessions closed while no request comes
        yield
        state.draining = True
        sweeper.cancel()
        await close_sessions(state)
        await asyncio.to_thread(state.engine.close)  # every checker container is removed

    app = FastAPI(
        title="provebench checker service",
        version=__version__,
        description="Checks proofs on warm, sandboxed, pinned checkers: the same verdicts as local checks.",
        lifespan=lifespan,
    )
    app.state.service = state
    app.router.route_class = BoundedRoute  # every body read within the size and depth limits

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return error_response(422, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(VerifierUnavailable)
    async def unavailable(_request: Request, exc: VerifierUnavailable) -> JSONResponse:
        return error_response(503, f"checker unavailable: {exc}", {"Retry-After": "30"})

    @app.exception_handler(UserError)
    async def cannot(_request: Request, exc: UserError) -> JSONResponse:
        # What the request named was fine (those are 4xx above); the service cannot set up its checker.
        return error_response(503, f"the service cannot check this: {exc}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own (404 no such route, 405, a body it could not parse) in the service's one shape.
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        # A fault of the service itself: still one line of JSON to the client (Starlette logs the traceback).
        return error_response(500, f"internal error of the service ({type(exc).__name__})")

    app.add_middleware(Drained, state=state)
    if state.token is not None:
        app.add_middleware(BearerAuth, token=state.token)

    @app.get("/v1/health", response_model=Health)
    async def health() -> Health:
        return Health(status="draining" if state.draining else "ok", version=__version__, systems=list(state.systems))

    @app.get("/v1/checkers", response_model=Checkers)
    async def checkers() -> Checkers:
        contexts = [WarmContext.of(s) for s in state.engine.status()]
        return Checkers(
            contexts=contexts,
            memory_budget_mb=memory_budget_mb(state.engine.settings),
            memory_reserved_mb=sum(c.memory_mb for c in contexts),
            queue_depth=state.queued,
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    def identity(target: Target, problem: Problem) -> Identity:
        suite = state.suites.get(target.suite) if target.suite is not None else None
        return Identity(
            checker=state.engine.checker(problem),
            suite_hash=suite.content_hash if suite is not None else None,
            service=state.name,
        )

    @app.post("/v1/identity", response_model=Identity, responses={404: {"model": ErrorReply}})
    async def identify(target: Target) -> Identity:
        """The checker that would check the target (no checker starts)."""
        problem, _ = resolve(state, target, None)
        return identity(target, problem)

    @app.post("/v1/warm", response_model=Identity, responses={404: {"model": ErrorReply}, 503: {"model": ErrorReply}})
    async def warm(target: Target) -> Identity:
        """Load the target's context now (it stays warm while the memory budget allows)."""
        problem, _ = resolve(state, target, None)
        await asyncio.to_thread(state.engine.warm, problem)
        return identity(target, problem)

    @app.post(
        "/v1/check",
        response_model=CheckReply | CheckResult,
        responses={
            400: {"model": ErrorReply},
            404: {"model": ErrorReply},
            413: {"model": ErrorReply},
            422: {"model": ErrorReply},
            429: {"model": ErrorReply},
        },
    )
    async def check(request: Request) -> Response:
        """One proof (a CheckItem's fields at top level) or a batch (``items``); see CheckRequest."""
        req, single = _parse(await request.json())  # a BoundedRequest: within the size and depth limits
        if len(req.items) > state.limits.max_batch:
            raise ApiError(413, f"a batch of {len(req.items)} proofs is over the limit of {state.limits.max_batch}")
        for item in req.items:
            check_size(state, item.proof)
        resolved = [resolve(state, item, req.timeout_s) for item in req.items]
        if req.stream and not single:
            # Taken into the queue when the stream starts: a client gone before then leaves no count behind.
            state.has_room(len(req.items))
            lines = (r.model_dump_json().encode() + b"\n" async for r in _results(state, req, resolved))
            return StreamingResponse(lines, media_type="application/x-ndjson")
        state.admit(len(req.items))
        if single:
            (problem, limit), item = resolved[0], req.items[0]
            try:
                checked = await state.engine.acheck(problem, item.proof, limit)
            except BaseException:
                state.queued -= 1
                raise
            state.answered(checked)
            result = CheckResult(id=item.id, verdict=state.stamped(checked), retries=checked.retries)
            return JSONResponse(result.model_dump(mode="json"))
        results = [r async for r in _results(state, req, resolved, admitted=True)]
        return JSONResponse(CheckReply(results=results).model_dump(mode="json"))

    app.include_router(sessions_router(state))
    app.include_router(kimina_router(state))
    return app


async def _results(
    state: ServiceState, req: CheckRequest, resolved: list[tuple[Problem, float]], admitted: bool = False
) -> AsyncIterator[CheckResult]:
    """Each item's result in input order, from the engine's batch (each at its own time limit)."""
    pairs = [(p, item.proof) for (p, _), item in zip(resolved, req.items, strict=True)]
    if not admitted:
        state.admit(len(pairs))
    # The service's checkers serve other requests too: a client that goes away stops only its batch.
    iterator: Generator[Checked, None, None] = state.engine.map_checked(
        pairs, None, timeouts=[t for _, t in resolved], close_on_abort=False
    )
    n = 0
    try:
        async for checked in iterate_in_threadpool(iterator):
            state.answered(checked)
            yield CheckResult(id=req.items[n].id, verdict=state.stamped(checked), retries=checked.retries)
            n += 1
    finally:
        state.queued -= len(pairs) - n
        try:
            iterator.close()  # check_in_order stops taking this batch's items
        except ValueError:
            pass  # still running in its thread: it ends with the batch
