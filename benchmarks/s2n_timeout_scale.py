"""How much longer s2n-bignum reference proofs take here than in s2n-bignum-bench's native build.

The benchmark's per-problem timeouts are 2-5 times its reference proof times,
measured with its natively compiled HOL Light. provebench checks in Debian's
HOL Light, the bytecode toplevel, so imported timeouts are scaled
(``TIMEOUT_SCALE`` in ``provebench/suites/s2n_bignum.py``). This script gives
the figure behind that scale: it checks the reference proofs of a few arm
functions' main theorems (native times of several seconds, so that start-up
noise does not count) in one warm checker, with a generous limit, and prints
each check's time against the benchmark's published native time for the same
problem (``prove_secs`` in its timeout map), then the median and the largest
ratio. The ratio uses the check's CPU time, so that a busy machine does not
inflate it. The baseline is the benchmark's published figure, not a run in this
process: there is no native build of these proofs here to time.

Needs PROVEBENCH_S2N_BIGNUM_SRC (an s2n-bignum checkout) and the hol-light-s2n
image built from it.

    PROVEBENCH_S2N_BIGNUM_SRC=DIR .venv/bin/python benchmarks/s2n_timeout_scale.py \\
        --timeout-map ../shared/datasets/s2n-bignum-bench/timeout-map.json

With ``--journal FILE`` it checks nothing and reads the PASS verdicts of a
selftest's journal instead (``provebench suites selftest ... --journal FILE``),
whose sample spans more proof sizes. Proofs of under a second natively are left
out there: a check's fixed costs (forking, parsing the goal) dominate them, and
their timeouts are at least 120 s times the scale anyway. It also prints the
tightest headroom: the scaled timeout over the CPU time the check took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from provebench.checking.registry import make_group_verifier
from provebench.core.settings import Settings
from provebench.suites.load import load_suite
from provebench.suites.s2n_bignum import TIMEOUT_SCALE, TimeoutEntry, load_timeout_map
from provebench.suites.s2n_source import import_source

# Main theorems with native reference times from 5 to 35 s, in small proof files (quick to load).
FUNCTIONS = ("word_popcount", "bignum_demont_p521", "bignum_mul_4_8_alt", "bignum_sqr_6_12_alt", "mlkem_reduce")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout-map", required=True, type=Path, help="the benchmark's timeout-map.json")
    ap.add_argument("--function", action="append", help=f"an arm function (repeatable; default {', '.join(FUNCTIONS)})")
    ap.add_argument("--journal", type=Path, help="read a selftest journal's PASS verdicts instead of checking")
    args = ap.parse_args()
    native = load_timeout_map(args.timeout_map)
    if args.journal is not None:
        from_journal(args.journal, native)
        return
    functions = tuple(args.function or FUNCTIONS)
    src = Path(os.environ["PROVEBENCH_S2N_BIGNUM_SRC"])
    settings = Settings(memory_mb=6144, load_timeout_s=3600, apt_ignore_valid_until=True)
    with tempfile.TemporaryDirectory(prefix="provebench-bench-") as tmp:
        import_source(src, Path(tmp) / "suite", args.timeout_map, ("arm",), functions=functions)
        suite = load_suite(Path(tmp) / "suite")
        wanted = {f"arm.{f}.{f.upper()}_CORRECT" for f in functions}
        problems = [p for p in suite.problems if p.id in wanted and native.get(p.id) and p.reference_proof]
        verifier = make_group_verifier(problems, settings)
        t0 = time.perf_counter()
        verifier.prepare()
        print(f"checker loaded in {time.perf_counter() - t0:.0f} s; {len(problems)} reference proofs to time")
        ratios = []
        for p in problems:
            prove_s = native[p.id].prove_seconds or 0.0
            # Generous: the point is how long the proof takes, not whether it fits the benchmark's limit.
            v = verifier.check(p, p.reference_proof or "", timeout_s=max(600.0, 20 * prove_s))
            ratio = v.cpu_seconds / prove_s  # CPU, not wall: the machine is shared
            ratios.append(ratio)
            print(
                f"  {p.id}: {v.status.value}, CPU {v.cpu_seconds:.1f} s (wall {v.check_seconds:.1f} s); "
                f"native {prove_s:.1f} s; ratio {ratio:.2f}"
            )
        verifier.close()
    summarize(ratios)


def summarize(ratios: list[float]) -> None:
    if ratios:
        print(
            f"ratio to the benchmark's native times: median {statistics.median(ratios):.2f}, "
            f"largest {max(ratios):.2f} (provebench scales imported timeouts by {TIMEOUT_SCALE:g})"
        )


def from_journal(path: Path, native: dict[str, TimeoutEntry]) -> None:
    """Ratios and headroom of a selftest journal's PASS verdicts with a native time of 1 s or more."""
    rows: dict[str, tuple[float, float, int, str]] = {}  # a problem checked again: its last verdict
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            problem, verdict = str(row["problem"]), row["verdict"]
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a kill
        entry = native.get(problem)
        if verdict.get("status") != "PASS" or entry is None or (entry.prove_seconds or 0.0) < 1.0:
            continue
        rows[problem] = (entry.prove_seconds or 0.0, float(verdict["cpu_seconds"]), entry.timeout_s, problem)
    ratios = []
    headroom = []
    for prove_s, cpu_s, timeout_s, problem in sorted(rows.values()):
        ratios.append(cpu_s / prove_s)
        headroom.append((timeout_s * TIMEOUT_SCALE / cpu_s, problem))
        print(f"  {problem}: CPU {cpu_s:.1f} s; native {prove_s:.1f} s; ratio {cpu_s / prove_s:.2f}")
    summarize(ratios)
    if headroom:
        least, problem = min(headroom)
        print(f"tightest headroom: the scaled timeout is {least:.1f} times the check's CPU time ({problem})")


if __name__ == "__main__":
    main()
