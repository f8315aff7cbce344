"""Checks per second with the local executor and with Ray, measured in one run on the same machine.

The work is a baseline run's attempts on ``hol-light-core`` (the baseline prover's proofs, each
problem ``-n`` times), checked on warm checkers (loading is timed apart: it is the same HOL Light
load either way).

1. Local against Ray, the same number of checkers on this machine (target: Ray at least 0.9 of local).
2. A simulated cluster (``ray.cluster_utils``) of one node, then two, each node with CPU and memory
   for one checker: throughput and where the checkers were placed.

Ray must run where its traffic stays on loopback: the script re-runs itself under ``unshare -n``
(root) unless the network namespace already has only ``lo``.

    .venv/bin/python benchmarks/scale.py [--checkers 2] [-n 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time

from provebench.checking.engine import Engine
from provebench.core.model import Problem
from provebench.core.settings import Executor, Settings
from provebench.provers.registry import make_prover
from provebench.suites.load import find_suite

CHECK_MB, HEADROOM_MB = 1024, 1024
NODE_MEMORY = (CHECK_MB + HEADROOM_MB + 512) * 1024 * 1024


def _attempts(settings: Settings, n: int) -> list[tuple[Problem, str]]:
    suite = find_suite("hol-light-core", settings.suites_dir)
    prover = make_prover("baseline", {})
    prover.prepare(suite.problems)
    out = []
    for p in suite.problems:
        for k in range(n):
            out.append((p, asyncio.run(prover.attempt(p, k, ())).proof or ""))
    return out


def _rate(engine: Engine, items: list[tuple[Problem, str]], workers: int, rounds: int) -> float:
    t = time.perf_counter()
    for _ in range(rounds):
        list(engine.map(items, 10, workers=workers))
    return rounds * len(items) / (time.perf_counter() - t)


def _warm_all(engine: Engine, problem: Problem, want: int) -> tuple[float, dict[str, int]]:
    """Load the context and wait until ``want`` checkers are ready; seconds and checkers per node."""
    t = time.monotonic()
    engine.warm(problem)
    verifier = engine.pool.verifier(problem)
    placement = getattr(verifier, "placement", None)
    while placement is not None and len(placement) < want and time.monotonic() - t < 1800:
        time.sleep(0.5)
    nodes: dict[str, int] = {}
    for where in (placement or {}).values():
        nodes[where["node"][:8]] = nodes.get(where["node"][:8], 0) + 1
    return time.monotonic() - t, nodes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkers", type=int, default=2)
    ap.add_argument("-n", type=int, default=8, help="attempts per problem")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if {name for _, name in socket.if_nameindex()} != {"lo"}:
        argv = [sys.executable, *sys.argv]
        os.execvp("unshare", ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *argv])

    import ray
    from ray.cluster_utils import Cluster

    base = Settings(checkers=args.checkers, memory_mb=CHECK_MB, container_headroom_mb=HEADROOM_MB, infra_backoff_s=0.2)
    items = _attempts(base, args.n)
    first = items[0][0]
    print(f"{len(items)} attempts x {args.rounds} rounds, {args.checkers} checkers", flush=True)

    with Engine(base) as local:
        load, _ = _warm_all(local, first, args.checkers)
        local_rate = _rate(local, items, args.checkers, args.rounds)
    print(f"local executor: warm in {load:.0f} s, {local_rate:.1f} checks/s", flush=True)

    ray.init(num_cpus=args.checkers, include_dashboard=False, log_to_driver=False)
    with Engine(base.model_copy(update={"executor": Executor.RAY})) as on_ray:
        load, nodes = _warm_all(on_ray, first, args.checkers)
        ray_rate = _rate(on_ray, items, args.checkers, args.rounds)
    ray.shutdown()
    print(
        f"1. Ray, one local node: warm in {load:.0f} s ({nodes}), {ray_rate:.1f} checks/s;"
        f" ratio to local {ray_rate / local_rate:.3f} (target >= 0.9)",
        flush=True,
    )

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": NODE_MEMORY})
    rates = {}
    try:
        for count in (1, 2):
            if count == 2:
                cluster.add_node(num_cpus=1, memory=NODE_MEMORY)
                cluster.wait_for_nodes()
            ray.init(address=cluster.address, log_to_driver=False)
            # Ask for more checkers than fit: the cluster's memory decides how many run, and where.
            with Engine(base.model_copy(update={"executor": Executor.RAY, "checkers": 4})) as on_cluster:
                load, nodes = _warm_all(on_cluster, first, count)
                rates[count] = _rate(on_cluster, items, 4, args.rounds)
            ray.shutdown()
            print(
                f"2. simulated cluster, {count} node(s) with room for one checker each: warm in {load:.0f} s,"
                f" checkers per node {nodes}, {rates[count]:.1f} checks/s",
                flush=True,
            )
    finally:
        cluster.shutdown()
    print(f"   two nodes against one: throughput ratio {rates[2] / rates[1]:.3f}")


if __name__ == "__main__":
    main()
