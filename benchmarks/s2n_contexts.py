"""Warm s2n-bignum template contexts against loading per attempt, measured in one process.

Needs PROVEBENCH_S2N_BIGNUM_SRC (an s2n-bignum checkout) and the hol-light-s2n
image built from it. Prints: the time to warm one arm template (bignum_add's:
base.ml and everything it loads, proofs admitted) up to the first of a sample
of its problems; reference-proof checks per second on the sample, in position
order, the walk on through the file included;
the time the same checker takes to go on to a second template (``--then``,
which shares base.ml: only its own part is loaded); and the benchmark's own
per-problem path (load the template, then check once) for a few problems,
with the ratios.

    PROVEBENCH_S2N_BIGNUM_SRC=DIR .venv/bin/python benchmarks/s2n_contexts.py [--sample 20] [--cold 2]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from provebench.checking.registry import make_group_verifier
from provebench.core.model import Status
from provebench.core.settings import Settings
from provebench.suites.load import load_suite
from provebench.suites.s2n_source import import_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=20, help="problems of the template to hold and check")
    ap.add_argument("--cold", type=int, default=2, help="problems to check the per-problem way")
    ap.add_argument("--function", default="bignum_add", help="whose arm proof file is the template")
    ap.add_argument("--then", default="bignum_sub", help="the second template's function")
    args = ap.parse_args()
    src = Path(os.environ["PROVEBENCH_S2N_BIGNUM_SRC"])
    settings = Settings(memory_mb=6144, load_timeout_s=3600, apt_ignore_valid_until=True)
    with tempfile.TemporaryDirectory(prefix="provebench-bench-") as tmp:
        import_source(src, Path(tmp) / "suite", arches=("arm",), functions=(args.function, args.then))
        suite = load_suite(Path(tmp) / "suite")
        problems = [p for p in suite.problems if p.reference_proof]
        first = [p for p in problems if Path(str(p.template)).stem == args.function]
        second = [p for p in problems if Path(str(p.template)).stem == args.then]
        # The sample always ends with the file's last theorem, so that the checker has walked all of the
        # first file when it goes on to the second; then the second file's own part is all it loads.
        last = max(first, key=lambda p: p.template_line or 0)
        rest = [p for p in first if p is not last]
        picked = random.Random(0).sample(rest, min(args.sample - 1, len(rest)))
        sample = sorted([*picked, last], key=lambda p: p.template_line or 0)
        then = max(second, key=lambda p: p.template_line or 0)  # the file's last theorem: all of it is loaded

        t0 = time.perf_counter()
        warm = make_group_verifier([*sample, then], settings)
        warm.prepare()
        first_verdict = warm.check(sample[0], sample[0].reference_proof or "")  # the walk to it is loading
        warm_load = time.perf_counter() - t0 - first_verdict.check_seconds
        t0 = time.perf_counter()
        verdicts = [first_verdict] + [warm.check(p, p.reference_proof or "") for p in sample[1:]]
        warm_checks = time.perf_counter() - t0
        t0 = time.perf_counter()
        switched = warm.check(then, then.reference_proof or "")
        switch_s = time.perf_counter() - t0 - switched.check_seconds
        warm.close()
        passed = sum(v.status is Status.PASS for v in verdicts)
        print(
            f"warm: HOL Light, then template {args.function} ({len(first)} problems) up to its first sampled "
            f"problem, loaded in {warm_load:.1f} s"
        )
        print(
            f"  {len(sample) - 1} more reference checks in position order in {warm_checks:.1f} s (the walk on "
            f"through the file included) = {(len(sample) - 1) / warm_checks:.2f} checks/s; each check "
            f"median {sorted(v.check_seconds for v in verdicts)[len(verdicts) // 2] * 1000:.0f} ms; {passed} PASS"
        )
        print(
            f"on to template {args.then} in the same checker (its own part only): {switch_s:.1f} s, "
            f"then {then.id}: {switched.status.value}"
        )

        t0 = time.perf_counter()
        alone = make_group_verifier([then], settings)
        alone.prepare()
        alone_verdict = alone.check(then, then.reference_proof or "")  # the walk through it is loading
        then_cold = time.perf_counter() - t0 - alone_verdict.check_seconds
        alone.close()
        print(f"  {args.then} loaded on its own, as a new checker: {then_cold:.1f} s; ratio {then_cold / switch_s:.1f}")

        cold_times = []
        for p in sample[-args.cold :]:
            t0 = time.perf_counter()
            v = make_group_verifier([p], settings)
            v.prepare()
            verdict = v.check(p, p.reference_proof or "")
            v.close()
            cold_times.append(time.perf_counter() - t0)
            print(f"per-problem path (load + one check): {p.id}: {cold_times[-1]:.1f} s, {verdict.status.value}")
        per_attempt_warm = warm_checks / (len(sample) - 1)
        per_attempt_cold = sum(cold_times) / len(cold_times)
        print(f"  ratio per attempt, per-problem path / warm: {per_attempt_cold / per_attempt_warm:.0f}")


if __name__ == "__main__":
    main()
