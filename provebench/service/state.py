"""What the service runs on and how much it takes: its state, limits, how it reads a request and its error type."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from provebench.checking.checked import Checked
from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import DEFAULT_IDLE_S, DEFAULT_SESSIONS, ProofSessions
from provebench.core.errors import UserError
from provebench.core.inputs import first_error, parse_json
from provebench.core.model import System, Verdict
from provebench.service.metrics import ServiceMetrics
from provebench.suites.load import Suite, suite_folders


@dataclass(frozen=True)
class ServiceLimits:
    """What one request may ask for, and how much may wait at once."""

    max_body_bytes: int = 64 << 20
    max_batch: int = 10_000
    max_queue: int = 20_000  # proofs accepted and not answered yet, over all requests
    max_sessions: int = DEFAULT_SESSIONS  # proof sessions open at once, over all clients
    session_idle_s: float = DEFAULT_IDLE_S  # a session unused this long is closed


@dataclass
class ServiceState:
    """What the service runs on: the engine, its limits, who it is and who may use it."""

    engine: Engine
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    token: str | None = None
    name: str = "provebench"  # the service's URL, as verdicts record which service answered
    systems: tuple[System, ...] = (System.HOL_LIGHT, System.LEAN4)
    queued: int = 0
    draining: bool = False
    suites: dict[str, Suite] = field(default_factory=dict)  # loaded so far, by name
    # The only suites it checks, by name: bundled, the user's suite folder, and ``serve --suite`` folders.
    # A client names a suite, never a path: the service reads no folder a request points at.
    suite_folders: dict[str, Path] = field(default_factory=dict)
    metrics: ServiceMetrics = field(init=False)
    sessions: ProofSessions = field(init=False)  # the service's one set of proof sessions
    # Session requests wait for their session's own checker: threads of their own, so that they never take
    # those of checks or of asyncio's small default pool. (Threads start only when used.)
    session_threads: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = ProofSessions(self.engine, self.limits.max_sessions, self.limits.session_idle_s)
        self.session_threads = ThreadPoolExecutor(
            max_workers=max(4, self.limits.max_sessions), thread_name_prefix="provebench-session"
        )
        self.metrics = ServiceMetrics(lambda: self.queued, self.engine.status, lambda: len(self.sessions))
        if not self.suite_folders:  # a listing of two folders, taken once: the suites it starts with
            self.suite_folders = suite_folders(self.engine.settings.suites_dir)

    def has_room(self, count: int) -> None:
        """Refuse ``count`` more proofs now if they would not be taken (draining: 503; full: 429)."""
        if self.draining:
            raise ApiError(503, "the service is shutting down")
        if self.queued + count > self.limits.max_queue:
            raise ApiError(429, f"{self.queued} proofs are waiting; try again shortly", {"Retry-After": "5"})

    def admit(self, count: int) -> None:
        """Take ``count`` proofs into the queue, or refuse them."""
        self.has_room(count)
        self.queued += count

    def stamped(self, checked: Checked) -> Verdict:
        """The verdict, saying which service checked it."""
        return checked.verdict.model_copy(update={"service": self.name})

    def answered(self, checked: Checked) -> None:
        """One admitted proof is answered."""
        self.queued -= 1
        self.metrics.checked(checked.verdict)


class ApiError(HTTPException):
    """A request that cannot be served: its status and one line.

    An ``HTTPException``, so that FastAPI passes it on as it is when raised while it reads a body
    (any other exception there becomes a 400 that says only "There was an error parsing the body").
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message)
        self.status, self.message, self.headers = status, message, headers or {}


def check_size(state: ServiceState, proof: str) -> None:
    """A proof over the size limit is refused before it is queued (413)."""
    limit = state.engine.settings.max_proof_bytes
    if len(proof.encode("utf-8", errors="surrogatepass")) > limit:
        raise ApiError(413, f"a proof is over the size limit of {limit} bytes")


# How much of a body over the limit is read and dropped before the 413: a client still sending when the
# server closes gets a reset instead of the reply (seen with urllib on a loaded machine); beyond this, it may.
DRAIN_BYTES = 16 << 20


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused over ``limit`` bytes (413) or when the client goes before it is in (400)."""
    too_large = ApiError(413, f"the request body is over the limit of {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + DRAIN_BYTES:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():  # over the limit, the rest is read so that the client reads the 413
            size += len(chunk)
            if size > limit + DRAIN_BYTES:
                break
            if size <= limit:
                chunks.append(chunk)
    except ClientDisconnect:
        # The client's doing, not the service's: an answer nobody reads, and no traceback in the log.
        raise ApiError(400, "the client closed the connection before the request body was in") from None
    if size > limit:
        raise too_large
    return b"".join(chunks)


class BoundedRequest(Request):
    """A request whose body is read within the service's size limit and parsed within ``inputs.MAX_DEPTH``.

    So that no body reaches code that recurses over it (the standard JSON parser, pydantic) nested
    deeper than that: the limits apply to the routes FastAPI parses too (typed bodies), not only to
    those that read the request themselves.
    """

    async def body(self) -> bytes:
        """The body, within ``ServiceLimits.max_body_bytes``."""
        if not hasattr(self, "_body"):
            state: ServiceState = self.app.state.service
            self._body = await read_body(self, state.limits.max_body_bytes)
        return self._body

    async def json(self) -> Any:
        """The body as JSON: not JSON, or nested too deep, is a 400."""
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body(), "the request body")
            except UserError as exc:
                raise ApiError(400, str(exc)) from None
        return self._json


class BoundedRoute(APIRoute):
    """A route whose handler reads the request as a ``BoundedRequest`` (every route of the service)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given the request as a ``BoundedRequest``."""
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(BoundedRequest(request.scope, request.receive))

        return bounded


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: Any) -> Model:
    """``data`` as ``model``, or a 422 naming the first field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc)
        raise ApiError(422, f"{where or 'request'}: {message}") from None
