"""HOL Light checking performance, measured in one run (the machine is shared and noisy).

Prints: warm check latency (median, p95) of a trivial proof through the Python API;
throughput with one and with two warm checkers; the cold path (start a checker,
load HOL Light, check one proof) for a few proofs; and the cold/warm ratio.

    .venv/bin/python benchmarks/hol_check.py [--warm 200] [--cold 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from provebench.core.model import Status
from provebench.core.settings import Settings
from provebench.suites.load import find_suite
from provebench.systems.hol_light.verifier import HolLightVerifier, make_hol_light_verifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm", type=int, default=200, help="warm checks to time")
    ap.add_argument("--cold", type=int, default=2, help="cold starts to time")
    ap.add_argument("--throughput", type=int, default=200, help="checks per throughput measurement")
    args = ap.parse_args()
    settings = Settings()
    suite = find_suite("hol-light-core", settings.suites_dir)
    trivial = suite.problem("add_0_right")
    proof = "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]"
    mixed = [(p, p.reference_proof or "") for p in suite.problems]

    cold: list[float] = []
    for i in range(args.cold):
        t0 = time.perf_counter()
        v = make_hol_light_verifier(settings.model_copy(update={"checkers": 1}))
        v.prepare()
        problem, ref = mixed[i % len(mixed)]
        assert v.check(problem, ref).status is Status.PASS
        cold.append(time.perf_counter() - t0)
        if i < args.cold - 1:
            v.close()
    one = v  # the last cold checker stays warm for the warm measurements

    warm = []
    for _ in range(args.warm):
        t0 = time.perf_counter()
        assert one.check(trivial, proof).status is Status.PASS
        warm.append(time.perf_counter() - t0)
    warm.sort()
    median = statistics.median(warm)
    p95 = warm[int(0.95 * (len(warm) - 1))]

    def throughput(verifier: HolLightVerifier, workers: int) -> float:
        items = [mixed[i % len(mixed)] for i in range(args.throughput)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            results = list(ex.map(lambda it: verifier.check(it[0], it[1]), items))
        assert all(r.status is Status.PASS for r in results)
        return len(items) / (time.perf_counter() - t0)

    tput1 = throughput(one, 1)
    one.close()
    two = make_hol_light_verifier(settings.model_copy(update={"checkers": 2}))
    t0 = time.perf_counter()
    two.prepare()
    load2 = time.perf_counter() - t0
    tput2 = throughput(two, 2)
    two.close()

    print(f"warm check, trivial proof: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms ({args.warm} checks)")
    print(
        f"throughput, suite reference proofs: 1 checker {tput1:.1f} checks/s, 2 checkers {tput2:.1f} checks/s "
        f"(ratio {tput2 / tput1:.2f})"
    )
    print(
        f"cold path (start + load HOL Light + one check): {', '.join(f'{c:.1f} s' for c in cold)}; "
        f"two checkers loading in parallel: {load2:.1f} s"
    )
    print(f"cold/warm ratio: {statistics.median(cold) / median:.0f}")


if __name__ == "__main__":
    main()
