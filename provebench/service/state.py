"""What the service runs on and how much it takes: its state, limits and the one error type of its routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from provebench.engine import Checked, Engine
from provebench.model import System, Verdict
from provebench.service.metrics import ServiceMetrics
from provebench.suites.load import Suite, suite_folders


@dataclass(frozen=True)
class ServiceLimits:
    """What one request may ask for, and how much may wait at once."""

    max_body_bytes: int = 64 << 20
    max_batch: int = 10_000
    max_queue: int = 20_000  # proofs accepted and not answered yet, over all requests


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

    def __post_init__(self) -> None:
        self.metrics = ServiceMetrics(lambda: self.queued, self.engine.status)
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


class ApiError(Exception):
    """A request that cannot be served: its status and one line."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def check_size(state: ServiceState, proof: str) -> None:
    """A proof over the size limit is refused before it is queued (413)."""
    limit = state.engine.settings.max_proof_bytes
    if len(proof.encode("utf-8", errors="surrogatepass")) > limit:
        raise ApiError(413, f"a proof is over the size limit of {limit} bytes")
