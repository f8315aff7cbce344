"""``--executor ray`` on a local Ray cluster of two simulated nodes, with real HOL Light checkers.

Each node declares memory for exactly one checker (one check's limit plus the context's headroom),
so placement by memory is visible: asked for three checkers, the cluster runs two, one per node. Ray runs only
inside a network namespace that has nothing but loopback (``make test`` starts this module under
``unshare -n``): outside one it listens on the machine's other address, so the module is skipped
there, with that reason.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from provebench.checking.engine import Engine
from provebench.checking.registry import make_group_verifier
from provebench.core.journal import read_journal
from provebench.core.model import Problem, Status
from provebench.core.settings import Executor, Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.load import Suite

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'provebench[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402 - only once Ray is known to be installed

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
CHECK_MB, HEADROOM_MB = 1024, 1024
SPIN = (  # a proof that computes for about 11 s on an idle machine here (50 rounds took 1.9 s: over before the kill)
    "(let rec spin n = if n = 0 then ARITH_TAC else spin (n - 1) in "
    "let rec rounds k = if k = 0 then ARITH_TAC else (ignore (spin 10000000); rounds (k - 1)) in rounds 300)"
)
NODE_MEMORY = (CHECK_MB + HEADROOM_MB + 512) * 1024 * 1024  # room for one checker, not two


def _loopback_only() -> bool:
    return {name for _, name in socket.if_nameindex()} == {"lo"}


pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.ray,
    pytest.mark.skipif(
        not _loopback_only(),
        reason="Ray tests run in a network namespace with only loopback (`make test` runs them under unshare -n)",
    ),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": NODE_MEMORY})
    c.add_node(num_cpus=1, memory=NODE_MEMORY)
    c.wait_for_nodes()
    ray.init(address=c.address, namespace="provebench-tests", log_to_driver=False)
    try:
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture
def two_nodes(cluster: Cluster) -> Cluster:
    """The cluster with its two nodes, whatever ran before: a test that removes a node leaves it short of one."""
    if len(cluster.list_all_nodes()) < 2:
        cluster.add_node(num_cpus=1, memory=NODE_MEMORY)
        cluster.wait_for_nodes()
    deadline = time.monotonic() + 60
    while ray.cluster_resources().get("memory", 0) != 2 * NODE_MEMORY:
        assert time.monotonic() < deadline, f"the cluster has not two nodes' memory: {ray.cluster_resources()}"
        time.sleep(0.2)
    return cluster


def _ray_settings(settings: Settings, checkers: int) -> Settings:
    return settings.model_copy(
        update={
            "executor": Executor.RAY,
            "checkers": checkers,
            "memory_mb": CHECK_MB,
            "container_headroom_mb": HEADROOM_MB,
            "infra_backoff_s": 0.2,
        }
    )


def _items(suite: Suite) -> list[tuple[Problem, str]]:
    """Each problem with its reference proof and with a proof that fails (verdicts of both kinds)."""
    out = []
    for p in suite.problems:
        out.append((p, p.reference_proof or "ALL_TAC"))
        out.append((p, "ALL_TAC"))
    return out


def test_checks_on_ray_actors_give_the_local_verdicts_placed_by_memory(
    two_nodes: Cluster, settings: Settings, core_suite: Suite, shared_verifier_factory: Factory
) -> None:
    items = _items(core_suite)
    with Engine(_ray_settings(settings, checkers=3)) as on_ray:
        ray_verdicts = [(v.status, v.reason) for v in on_ray.map(items, 10)]
        verifier = on_ray.pool.verifier(items[0][0])
        placed = dict(verifier.placement)  # type: ignore[attr-defined]
        # The cluster's memory is the budget: it holds two checkers of this size, not the three asked for.
        assert verifier.count == 2  # type: ignore[attr-defined]

        # Every actor lost while a check is in flight on one of them: the check is retried, not failed.
        # A problem whose own limit lets the spin run long on a busy machine (a check never gets more than that).
        problem = core_suite.problem("add_comm").model_copy(update={"timeout_s": 120})
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(on_ray.check, problem, SPIN, 120)
            time.sleep(2)
            assert not in_flight.done(), "the check ended before its checker could be lost"
            for where in placed.values():
                os.kill(where["pid"], signal.SIGKILL)
            checked = in_flight.result(timeout=1200)
        assert checked.verdict.status is Status.PASS and checked.retries >= 1
    with Engine(settings, shared_verifier_factory) as local:
        local_verdicts = [(v.status, v.reason) for v in local.map(items, 10)]
    assert ray_verdicts == local_verdicts
    assert {s for s, _ in ray_verdicts} >= {Status.PASS, Status.FAIL}
    # Two nodes with room for one checker each: one checker on each.
    assert len(placed) == 2 and len({w["node"] for w in placed.values()}) == 2


def _actor_pids() -> set[int]:
    """Processes of Ray checker actors: the owners of checker containers other than this process."""
    labels = ["org.provebench.role=checker"]
    found = set()
    for c in docker.from_env().containers.list(filters={"label": labels}):
        pid = int(c.labels.get("org.provebench.owner-pid", "0"))
        if pid and pid != os.getpid():
            found.add(pid)
    return found


def test_a_run_survives_a_killed_actor_and_a_removed_node(
    two_nodes: Cluster, settings: Settings, tmp_path: Path, shared_verifier_factory: Factory
) -> None:
    config = {"suite": "hol-light-core", "n": 2, "categories": ["logic", "sets"], "timeout_s": 10, "infra_retries": 3}
    events: list[str] = []
    seen = 0

    def disrupt(_record: object, _done: bool) -> None:
        nonlocal seen
        seen += 1
        if seen == 2 and not events:
            pids = _actor_pids()
            assert pids, "no checker actor found to kill"
            os.kill(sorted(pids)[0], signal.SIGKILL)  # an actor lost mid-run: Ray makes it again
            events.append("killed")
        elif seen == 6 and events == ["killed"]:
            worker = next(n for n in two_nodes.list_all_nodes() if n is not two_nodes.head_node)
            two_nodes.remove_node(worker)  # its checker cannot move: the head has room for one only
            events.append("removed")

    def run(out: Path, s: Settings, hooks: RunHooks, factory: Factory = make_group_verifier) -> list[Any]:
        rc = build_config(config, {}, "test")
        plan = plan_run(rc, s)
        prover = make_prover("baseline", {})
        prover.prepare(plan.suite.problems)
        rundir = RunDir.create(out, plan.suite.name, prover.name)
        execute(plan, rundir, prover, s, hooks, factory)
        return read_journal(rundir.journal_path)

    t0 = time.monotonic()
    on_ray = run(tmp_path / "ray", _ray_settings(settings, checkers=2), RunHooks(on_record=disrupt))
    assert events == ["killed", "removed"], f"the run ended before both disruptions ({time.monotonic() - t0:.0f} s)"
    local = run(tmp_path / "local", settings, RunHooks(), shared_verifier_factory)
    keys = [r.key for r in on_ray]
    assert len(keys) == len(set(keys)) == len(local), "an attempt was lost or journalled twice"
    assert {r.key: r.verdict.status for r in on_ray} == {r.key: r.verdict.status for r in local}
    assert all(r.verdict.status is not Status.ERROR for r in on_ray)
