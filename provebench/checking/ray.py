"""Warm checkers as Ray actors (``--executor ray``): all that provebench knows of Ray is here.

The engine and its context pool are unchanged: a context's verifier is a ``RayVerifier`` whose
warm checkers are actors, one checker each, placed by Ray. Each actor declares its memory (one
check's limit plus the context's headroom) as Ray's ``memory`` resource, so that no node hosts
more checkers than its memory allows, and one CPU. A context's actors are spread over the nodes, so
that each node loads each context at most once while there are nodes for them. Prover calls,
the journal and reports stay with the driver: only checks travel.

An actor loads its context when it is made; while it loads, Ray makes it again (on any node with
room) if it or its node is lost. One lost under a check fails that check as an infrastructure error,
which the engine retries within the run's budget on another checker, and the warm pool
(``checking.warm_pool``) makes a new actor in its place.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from provebench.checking.warm_pool import WarmPool
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


class _ActorChecker:
    """One checker actor, as the warm pool knows checkers: made and loaded by ``start``, stopped by ``close``."""

    def __init__(self, owner: RayVerifier, serial: int) -> None:
        self._owner = owner
        self.serial = serial
        self._lock = threading.Lock()
        self._handle: Any = None
        self._closed = False
        self._lost = False  # a check found it gone: no goodbye call that would wait for Ray to make it again

    def start(self) -> None:
        """Make the actor and wait until it is ready (its context loaded); raise if it will not serve."""
        ray = _ray()
        with self._lock:
            if self._closed:
                raise VerifierUnavailable("the checkers were stopped")
            self._handle = self._owner.actor_class.remote(self._owner.problems, self._owner.settings, self._owner.local)
        deadline = time.monotonic() + self._owner.settings.load_timeout_s * 4
        try:
            while True:
                try:
                    # Retried across Ray's restarts of the actor: it fails only once the actor is gone for good.
                    call = self._handle.where.options(max_task_retries=-1).remote()
                    where = ray.get(call, timeout=max(1.0, deadline - time.monotonic()))
                    break
                except ray.exceptions.ActorUnavailableError:  # being made again: ask again
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
        # Ray raises many kinds; each means this actor will not serve (SystemExit: Ray was shut down under the wait).
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise _as_verifier_error(exc) from None
        self._owner.placement[self.serial] = where

    def check(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        """One check on this actor; infrastructure failures as ``VerifierUnavailable``."""
        ray = _ray()
        try:
            verdict: Verdict = ray.get(self._handle.check.remote(problem, proof, timeout_s))
        except Exception as exc:  # noqa: BLE001 - sorted into infrastructure errors and the rest
            error = _as_verifier_error(exc)
            if isinstance(error, VerifierUnavailable):
                self._lost = True
            raise error from None
        return verdict

    def close(self) -> None:
        """Stop the actor's checker container, then the actor."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            handle = self._handle
        self._owner.placement.pop(self.serial, None)
        if handle is None:
            return
        ray = _ray()
        if not self._lost:
            try:
                ray.get(handle.close.remote(), timeout=30)
            except Exception:  # noqa: BLE001, S110 - a lost actor has nothing left to close
                pass
        ray.kill(handle, no_restart=True)


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
        self.placement: dict[int, dict[str, Any]] = {}  # actor serial -> where it is (for tests and status)
        self._serials = itertools.count()
        self._pool: WarmPool[_ActorChecker] = WarmPool(
            lambda _dead: _ActorChecker(self, next(self._serials)), self.count, "Ray checker"
        )
        self._actor_class: Any = None

    @property
    def actor_class(self) -> Any:
        """The checker actor as Ray makes it: one CPU and its memory declared, spread over the nodes."""
        if self._actor_class is None:
            self._actor_class = (
                _ray()
                .remote(CheckerActor)
                .options(
                    num_cpus=1,
                    memory=self.memory_mb * MB,
                    max_restarts=ACTOR_RESTARTS,
                    max_task_retries=0,  # a check lost with its actor is retried by the engine, and journalled so
                    scheduling_strategy="SPREAD",
                )
            )
        return self._actor_class

    @property
    def restarts(self) -> int:  # type: ignore[override]
        """Actors lost and made again."""
        return self._pool.restarts

    def prepare(self) -> None:
        """Make the actors; return when the first is ready (the others join as they become ready)."""
        _ray()  # Ray missing: the one-line error, before any thread
        self._pool.start(wait_for="one")

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check on an idle ready actor; a lost actor is replaced by a new one, ready once loaded."""
        actor = self._pool.acquire()
        try:
            verdict = actor.check(problem, proof, timeout_s)
        except VerifierUnavailable:
            self._pool.replace(actor)
            raise
        except BaseException:
            self._pool.release(actor)
            raise
        self._pool.release(actor)
        return verdict

    def close(self) -> None:
        """Stop every actor of this context (their containers go with their verifiers)."""
        self._pool.close()
