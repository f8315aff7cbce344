"""The service's Prometheus metrics: what it queues, checks, restarts and loads, and its proof sessions.

Counters and the check-time histogram are updated as verdicts come; what the engine knows (warm
contexts, their load seconds, checker restarts) is read from it at scrape time by a collector, so
that it is never stale and never double-counted.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from threading import Lock

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from provebench.checking.contexts import ContextStatus
from provebench.core.model import Verdict

RATE_WINDOW_S = 60.0


class _EngineCollector(Collector):
    def __init__(self, status: Callable[[], list[ContextStatus]]) -> None:
        self._status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        contexts = self._status()
        labels = ["system", "image", "context"]
        load = GaugeMetricFamily(
            "provebench_context_load_seconds", "Seconds the context's last load took", labels=labels
        )
        warm = GaugeMetricFamily("provebench_context_warm", "1 while the context's checkers are loaded", labels=labels)
        memory = GaugeMetricFamily("provebench_context_memory_mb", "Memory the context reserves", labels=labels)
        restarts = 0
        for c in contexts:
            key = [c.key[0], c.key[1], hashlib.sha256(c.key[2].encode()).hexdigest()[:12]]
            load.add_metric(key, c.load_seconds)
            warm.add_metric(key, 1.0 if c.state == "warm" else 0.0)
            memory.add_metric(key, c.memory_mb)
            restarts += c.restarts
        yield load
        yield warm
        yield memory
        yield GaugeMetricFamily("provebench_checker_restarts", "Checkers that died and were started again", restarts)


class ServiceMetrics:
    """One registry per service (tests run several in a process)."""

    def __init__(
        self,
        queued: Callable[[], int],
        status: Callable[[], list[ContextStatus]],
        sessions_open: Callable[[], int] = lambda: 0,
    ) -> None:
        self.registry = CollectorRegistry()
        self._verdicts = Counter("provebench_checks", "Checks answered, by verdict", ["status"], registry=self.registry)
        self._steps = Counter(
            "provebench_session_steps", "Proof session steps tried, by outcome", ["status"], registry=self.registry
        )
        Gauge("provebench_proof_sessions_open", "Proof sessions open", registry=self.registry).set_function(
            lambda: float(sessions_open())
        )
        self._seconds = Histogram(
            "provebench_check_seconds",
            "Wall seconds of a check on its checker",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, float("inf")),
            registry=self.registry,
        )
        Gauge("provebench_queue_depth", "Proofs accepted and not answered yet", registry=self.registry).set_function(
            lambda: float(queued())
        )
        Gauge(
            "provebench_checks_per_second",
            f"Checks answered per second over the last {RATE_WINDOW_S:g} s",
            registry=self.registry,
        ).set_function(self._rate)
        self.registry.register(_EngineCollector(status))
        self._recent: deque[float] = deque()
        self._lock = Lock()

    def checked(self, verdict: Verdict) -> None:
        """Count one answered check."""
        self._verdicts.labels(status=verdict.status.value).inc()
        self._seconds.observe(verdict.check_seconds)
        with self._lock:
            self._recent.append(time.monotonic())

    def stepped(self, status: str) -> None:
        """Count one proof session step (``OK`` when the tactic was applied, else the verdict word of why not)."""
        self._steps.labels(status=status).inc()

    def _rate(self) -> float:
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] > RATE_WINDOW_S:
                self._recent.popleft()
            return len(self._recent) / RATE_WINDOW_S

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
