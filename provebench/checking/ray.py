"""Warm checkers as Ray actors (``--executor ray``): all that provebench knows of Ray is here.

The engine and its context pool are unchanged: a context's verifier is a ``RayVerifier`` whose
warm checkers are actors, one checker each, placed by Ray. Each actor declares its memory (one
check's limit plus the context's headroom) as Ray's ``memory`` resource, so that no node hosts
more checkers than its memory allows, and one CPU. A context's actors are spread over the nodes, so
that each node loads each context at most once while there are nodes for them. Prover calls,
the journal and reports stay with the driver: only checks travel.

An actor loads its context when it is made; Ray makes it again (on any node with room) when it
or its node is lost, and the check it had in flight fails here as an infrastructure error, which
the engine retries within the run's budget on another checker.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Verdict
from provebench.core.settings import Executor, Settings, checker_memory_mb, checkers_in_budget, sized_settings
from provebench.core.verifier import Verifier, VerifierFactory

RAY_MISSING = "--executor ray needs Ray, an optional extra: pip install 'provebench[ray]'"
NAMESPACE = "provebench"
ACTOR_RESTARTS = 3  # a lost checker is made again this often before its context gives up on it
MB = 1024 * 1024


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


def joined(settings: Settings) -> Settings:
    """Connect to the cluster (or start a local Ray instance); settings sized to the cluster.

    The memory budget the context pool keeps to becomes the cluster's memory (unless set), so that
    contexts are stopped, least recently used first, when the cluster has no room for another.
    """
    ray = _ray()
    if not ray.is_initialized():
        try:
            # A local instance started here is shut down when the driver exits (Ray's own atexit).
            ray.init(
                address=settings.ray_address,
                namespace=NAMESPACE,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = settings.ray_address or "a local instance"
            raise UserError(f"cannot join the Ray cluster at {where}: {str(exc).splitlines()[0]}") from None
    update: dict[str, Any] = {}
    if "memory_budget_mb" not in settings.model_fields_set:
        update["memory_budget_mb"] = max(512, int(ray.cluster_resources().get("memory", 0) // MB))
    if "checkers" not in settings.model_fields_set:
        update["checkers"] = max(1, min(64, int(ray.cluster_resources().get("CPU", 1))))
    return settings.model_copy(update=update)


class CheckerActor:
    """One warm checker on a Ray node: the local verifier of one context, with one checker."""

    def __init__(self, problems: list[Problem], settings: Settings, local: VerifierFactory) -> None:
        here = settings.model_copy(update={"executor": Executor.LOCAL, "server": None, "checkers": 1})
        self.verifier = local(here, problems)
        self.verifier.prepare()  # in the constructor: an actor made again loads its context again

    def where(self) -> dict[str, Any]:
        """The node and process of this checker (ready once the context is loaded)."""
        ray = _ray()
        return {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    def check(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        """One check on this node's checker."""
        return self.verifier.check(problem, proof, timeout_s)

    def close(self) -> None:
        """Stop this node's checker container."""
        self.verifier.close()


def _creation_error(exc: BaseException) -> str | None:
    """What an actor's constructor raised (a missing image, a checker that cannot load), in one line."""
    if not getattr(exc, "_actor_init_failed", False):
        return None
    lines = [line.strip() for line in str(getattr(exc, "error_msg", exc)).splitlines() if line.strip()]
    for line in reversed(lines):
        name, sep, text = line.partition(": ")
        if sep and name.rsplit(".", 1)[-1] in {"UserError", "VerifierUnavailable"}:
            return text
    return lines[-1] if lines else None


def _as_verifier_error(exc: BaseException) -> BaseException:
    """A lost actor or node, or a checker that cannot answer, as ``VerifierUnavailable``; anything else as is."""
    ray = _ray()
    cause = exc.cause if isinstance(exc, ray.exceptions.RayTaskError) else exc
    if isinstance(cause, VerifierUnavailable):
        return VerifierUnavailable(str(cause).splitlines()[0])
    if (why := _creation_error(exc)) is not None:
        return VerifierUnavailable(f"a Ray checker could not start on its node: {why}")
    if isinstance(exc, ray.exceptions.RayActorError | ray.exceptions.ActorUnavailableError):
        return VerifierUnavailable(f"a Ray checker actor was lost: {str(exc).splitlines()[0]}")
    if isinstance(exc, ray.exceptions.RayError):
        return VerifierUnavailable(f"Ray: {str(exc).splitlines()[0]}")
    return exc


class RayVerifier(Verifier):
    """A context's warm checkers as Ray actors; each check goes to an idle one that is ready."""

    def __init__(self, problems: Sequence[Problem], settings: Settings, local: VerifierFactory) -> None:
        self.system = problems[0].system
        self.problems = list(problems)
        self.settings = settings
        self.local = local  # the system's local verifier factory, which each actor runs
        # The checker's identity, known before any actor starts (making a local verifier starts nothing).
        probe = local(settings.model_copy(update={"checkers": 1}), self.problems)
        self.checker: CheckerInfo = probe.checker
        probe.close()
        sized = sized_settings(settings, self.problems)
        self.count = checkers_in_budget(sized)
        self.memory_mb = checker_memory_mb(sized)
        self._actors: list[Any] = []
        self._idle: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._live = 0  # actors ready or being made again
        self._first_error: BaseException | None = None
        self._closed = False
        self.placement: dict[int, dict[str, Any]] = {}  # actor index -> where it is (for tests and status)

    def prepare(self) -> None:
        """Make the actors; return when the first is ready (the others join as they become ready)."""
        with self._lock:
            if self._closed:
                raise VerifierUnavailable("the checkers were stopped")
            if self._actors:
                return
            ray = _ray()
            remote = ray.remote(CheckerActor).options(
                num_cpus=1,
                memory=self.memory_mb * MB,
                max_restarts=ACTOR_RESTARTS,
                max_task_retries=0,  # a check lost with its actor is retried by the engine, and journalled so
                scheduling_strategy="SPREAD",
            )
            self._actors = [remote.remote(self.problems, self.settings, self.local) for _ in range(self.count)]
            self._live = len(self._actors)
        for i, actor in enumerate(self._actors):
            threading.Thread(target=self._join, args=(i, actor), daemon=True, name=f"ray-checker-{i}").start()
        self._wait_for_one()

    def _join(self, i: int, actor: Any) -> None:
        """Wait until actor ``i`` is ready (loaded), then offer it for checks; a dead one is counted out."""
        ray = _ray()
        deadline = time.monotonic() + self.settings.load_timeout_s * 4
        try:
            while True:
                try:
                    # Retried across Ray's restarts of the actor: it fails only once the actor is gone for good.
                    call = actor.where.options(max_task_retries=-1).remote()
                    where = ray.get(call, timeout=max(1.0, deadline - time.monotonic()))
                    break
                except ray.exceptions.ActorUnavailableError:  # being made again: ask again
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
        # Ray raises many kinds; each means this actor will not serve (SystemExit: Ray was shut down under the wait).
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            with self._lock:
                self._live -= 1
                if self._first_error is None:
                    self._first_error = _as_verifier_error(exc)
                if self._live == 0:
                    self._idle.put(None)  # wake a waiting check: nothing will serve
            return
        with self._lock:
            self.placement[i] = where
        self._idle.put(i)

    def _wait_for_one(self) -> None:
        i = self._take()
        self._idle.put(i)

    def _take(self) -> int:
        while True:
            i = self._idle.get()
            if i is not None:
                return int(i)
            with self._lock:
                if self._closed:
                    self._idle.put(None)  # for the next waiting check
                    raise VerifierUnavailable("the checkers were stopped")
                if self._live == 0:
                    self._idle.put(None)  # for the next waiting check
                    error = self._first_error or VerifierUnavailable("no Ray checker actor could start")
                    raise VerifierUnavailable(f"no Ray checker is left for this context: {error}")

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check on an idle ready actor; a lost actor rejoins (made again by Ray) once it is ready."""
        if not self._actors:
            self.prepare()
        ray = _ray()
        i = self._take()
        try:
            verdict: Verdict = ray.get(self._actors[i].check.remote(problem, proof, timeout_s))
        except Exception as exc:  # noqa: BLE001 - sorted into infrastructure errors and the rest
            error = _as_verifier_error(exc)
            if isinstance(error, VerifierUnavailable):
                with self._lock:
                    self.restarts += 1
                    self.placement.pop(i, None)
                threading.Thread(target=self._join, args=(i, self._actors[i]), daemon=True).start()
            else:
                self._idle.put(i)
            raise error from None
        self._idle.put(i)
        return verdict

    def close(self) -> None:
        """Stop every actor of this context (their containers go with their verifiers)."""
        ray = _ray()
        with self._lock:
            if self._closed:
                return
            self._closed = True  # the handles stay: a check or a join in flight still finds its actor
            actors = list(self._actors)
        for actor in actors:
            try:
                ray.get(actor.close.remote(), timeout=30)
            except Exception:  # noqa: BLE001, S110 - a lost actor has nothing left to close
                pass
            ray.kill(actor, no_restart=True)
        self._idle.put(None)
