"""Proof-session step latency on a warm HOL Light checker, against a plain check in the same run.

Prints the median and p95 of: a trivial step (ALL_TAC, applied then undone), opening a session, and a
warm check of a trivial proof (the baseline), with each median's ratio to the check's. Target (issue 36):
a trivial step's median under 50 ms on hol-light-core.

    PROVEBENCH_APT_IGNORE_VALID_UNTIL=1 .venv/bin/python benchmarks/session_step.py [--steps 200] [--checker native]
"""

from __future__ import annotations

import argparse
import statistics
import time

from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import ProofSessions
from provebench.core.settings import CheckerBuild, Settings
from provebench.suites.load import find_suite


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200, help="steps (and checks) to time")
    ap.add_argument("--checker", choices=["native", "bytecode"], default="native", help="HOL Light's build")
    args = ap.parse_args()
    settings = Settings(checkers=1, checker_build=CheckerBuild(args.checker))
    suite = find_suite("hol-light-core", settings.suites_dir)
    problem = suite.problem("add_comm")
    with Engine(settings) as engine:
        engine.warm(problem)
        sessions = ProofSessions(engine)
        sid, _ = sessions.open(problem)
        assert sid is not None
        steps, undos, checks, opens = [], [], [], []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            assert sessions.step(sid, "ALL_TAC").ok
            t1 = time.perf_counter()
            assert sessions.undo(sid).ok
            t2 = time.perf_counter()
            engine.check(problem, "ARITH_TAC")
            t3 = time.perf_counter()
            steps.append(t1 - t0)
            undos.append(t2 - t1)
            checks.append(t3 - t2)
        for _ in range(max(10, args.steps // 10)):
            t0 = time.perf_counter()
            other, _ = sessions.open(problem)
            opens.append(time.perf_counter() - t0)
            assert other is not None
            sessions.close(other)
        sessions.close_all()
    base, _ = _ms(checks)
    print(f"{args.checker} checker, {args.steps} of each, median / p95 (ratio of medians to a warm check):")
    for name, samples in (
        ("warm check (baseline)", checks),
        ("step ALL_TAC", steps),
        ("undo", undos),
        ("open session", opens),
    ):
        median, p95 = _ms(samples)
        print(f"  {name:22} {median:7.1f} ms / {p95:7.1f} ms   x{median / base:.2f}")


if __name__ == "__main__":
    main()
