"""Bytecode against native-code HOL Light checkers, side by side in one run (the machine is shared and noisy).

Prints, for each build: the time until a HOL Light core checker is ready; the warm latency of a trivial
check (median, p95; the two builds interleaved); and, with ``--s2n-suite`` and ``--timeout-map``, the CPU
time of a sample of s2n-bignum reference proofs against the benchmark's own native reference times
(``prove_secs`` in its timeout map): per build, the median and worst ratio of the whole check's CPU time
and of the proof's own (the tactic built and run, as the benchmark's harness times it: its compiling is
not in the benchmark's figure), the fixed cost a check pays besides, and the time to load the sample's
template contexts. The native build runs twice: loading s2n-bignum's base.ml compiled at image
build, and walking its text as the bytecode build does.

    .venv/bin/python benchmarks/native.py [--warm 200]
        [--s2n-suite DIR --timeout-map timeout-map.json [--sample 10] [--files 2] [--match TEXT]
         [--min-s 1] [--max-s 300] [--only bytecode|native] [--no-text-walk]]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from benchmark_build import BenchmarkBuild, build_and_time

from provebench.checking.registry import make_group_verifier
from provebench.containers import image_for_build, parse_image_ref
from provebench.containers.engine import DockerEngine
from provebench.core.model import Problem, Status, System
from provebench.core.settings import CheckerBuild, Settings
from provebench.suites.check_requests import adhoc_problem
from provebench.suites.load import load_suite
from provebench.suites.s2n_bignum import S2N_ROOT_IN_IMAGE, TIMEOUT_SCALE
from provebench.systems.hol_light.verifier import HolLightVerifier, make_hol_light_verifier

BUILDS = (CheckerBuild.BYTECODE, CheckerBuild.NATIVE)
# Every build checks with the suite's limits times bytecode suites' own scale: CPU time is measured, and a
# bytecode check of a suite for native checkers would otherwise time out near the benchmark's limits.
LIMIT_SCALE = TIMEOUT_SCALE


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def core(settings: Settings, warm_checks: int) -> None:
    """Ready time and warm trivial-check latency of each build's core checker."""
    ready: dict[CheckerBuild, float] = {}
    checkers: dict[CheckerBuild, HolLightVerifier] = {}
    for build in BUILDS:
        t0 = time.perf_counter()
        checkers[build] = make_hol_light_verifier(settings.model_copy(update={"checker_build": build}))
        checkers[build].prepare()
        ready[build] = time.perf_counter() - t0
    goal = adhoc_problem(System.HOL_LIGHT, "`T`", 30)
    latency: dict[CheckerBuild, list[float]] = {b: [] for b in BUILDS}
    for i in range(warm_checks):
        for build in BUILDS if i % 2 == 0 else tuple(reversed(BUILDS)):
            t0 = time.perf_counter()
            assert checkers[build].check(goal, "ACCEPT_TAC TRUTH").status is Status.PASS
            latency[build].append(time.perf_counter() - t0)
    for c in checkers.values():
        c.close()
    b, n = (CheckerBuild.BYTECODE, CheckerBuild.NATIVE)
    print(
        f"core checker ready: bytecode {ready[b]:.1f} s, native {ready[n]:.1f} s "
        f"(native/bytecode {ready[n] / ready[b]:.2f})"
    )
    for build in BUILDS:
        ms = [x * 1000 for x in latency[build]]
        print(f"warm trivial check, {build.value}: median {statistics.median(ms):.1f} ms, p95 {_pct(ms, 0.95):.1f} ms")
    ratio = statistics.median(latency[n]) / statistics.median(latency[b])
    print(f"warm trivial check, native/bytecode at the median: {ratio:.2f} ({warm_checks} checks each, interleaved)")


def s2n(settings: Settings, suite_dir: Path, timeout_map: Path, args: argparse.Namespace) -> None:
    """Reference proofs of a sample of s2n-bignum problems, in both builds, against the benchmark's times."""
    reference = {e["problem_id"]: float(e["prove_secs"]) for e in json.loads(timeout_map.read_text())}
    suite = load_suite(suite_dir)
    eligible = [
        p
        for p in suite.problems
        if p.reference_proof
        and args.min_s <= reference.get(p.id, -1) <= args.max_s
        and p.template is not None
        and any(m in str(p.template) for m in args.match or [""])
    ]
    if args.id:
        sample = [suite.problem(i) for i in args.id]
        chosen = {str(p.template) for p in sample}
    else:
        rng = random.Random(args.seed)
        files = sorted({str(p.template) for p in eligible})
        chosen = set(rng.sample(files, min(args.files, len(files))))
        pool = [p for p in eligible if str(p.template) in chosen]
        sample = rng.sample(pool, min(args.sample, len(pool)))
    sample.sort(key=lambda p: (str(p.template), p.template_line))
    print(f"s2n-bignum sample: {len(sample)} problems from {len(chosen)} proof files ({', '.join(sorted(chosen))})")
    proof_cpu: dict[str, dict[str, float]] = {}  # variant -> problem -> the proof's own CPU time
    variants = [(b, b.value) for b in BUILDS if args.only in (None, b.value)]
    if args.only in (None, "native") and not args.no_text_walk:  # the native build walking base.ml's text too
        variants.insert(1 if args.only is None else 0, (CheckerBuild.NATIVE, "native, base.ml as text"))
    for build, name in variants:
        update = {"checker_build": build, "checkers": 1, "compiled_contexts": "text" not in name}
        built = settings.model_copy(update=update)
        t0 = time.perf_counter()
        checker = make_group_verifier(built, sample)
        checker.prepare()
        checked: list[tuple[Problem, float, float]] = []
        loading = 0.0
        for p in sample:
            t1 = time.perf_counter()
            v = checker.check(p, p.reference_proof or "", p.timeout_s * LIMIT_SCALE)
            loading += time.perf_counter() - t1 - v.check_seconds  # the walk to the problem is loading
            runs = [
                v,
                *(checker.check(p, p.reference_proof or "", p.timeout_s * LIMIT_SCALE) for _ in range(1, args.repeat)),
            ]
            for r in runs:
                assert r.status is Status.PASS and r.proof_seconds is not None, (name, p.id, r.status, r.messages[:1])
            cpu = statistics.median(r.cpu_seconds for r in runs)
            checked.append((p, cpu, statistics.median(r.proof_seconds or 0.0 for r in runs)))
        total = time.perf_counter() - t0
        checker.close()
        whole = [cpu / reference[p.id] for p, cpu, _ in checked]
        own = [proof / reference[p.id] for p, _, proof in checked]
        fixed = [cpu - proof for _, cpu, proof in checked]
        print(
            f"{name}: check CPU/reference median {statistics.median(whole):.2f}, worst {max(whole):.2f}; "
            f"the proof's own CPU/reference (as the benchmark times it) median {statistics.median(own):.2f}, "
            f"worst {max(own):.2f}; fixed cost a check (compiling, forking) median {statistics.median(fixed):.2f} s, "
            f"most {max(fixed):.2f} s; template loading {loading:.0f} s; end to end {total:.0f} s",
            flush=True,
        )
        for p, cpu, proof in checked:
            print(
                f"  {p.id}: reference {reference[p.id]:.2f} s, {name} check CPU {cpu:.2f} s, proof CPU {proof:.2f} s",
                flush=True,
            )
        proof_cpu[name] = {p.id: proof for p, _, proof in checked}
    if args.benchmark_build:
        against_benchmark_build(settings, sample, proof_cpu, args.repeat)


def against_benchmark_build(
    settings: Settings, sample: list[Problem], proof_cpu: dict[str, dict[str, float]], repeat: int
) -> None:
    """Each variant's proof times against the benchmark's own build of each proof, here and now."""
    engine = DockerEngine(settings)
    built: dict[str, BenchmarkBuild] = {}
    for p in sample:
        r, revision = parse_image_ref(image_for_build(p.checker_image or "", CheckerBuild.NATIVE.value))
        image = engine.ensure_image(r, lambda _: None, revision)
        built[p.id] = build_and_time(engine, image, p, S2N_ROOT_IN_IMAGE, repeat)  # where the suite's context cds
        print(
            f"  {p.id}: the benchmark's build: proof CPU {built[p.id].proof_cpu_s:.2f} s "
            f"(compiling the program {built[p.id].compile_s:.0f} s)",
            flush=True,
        )
    for name, times in proof_cpu.items():
        ratios = [times[i] / b.proof_cpu_s for i, b in built.items()]
        print(
            f"{name}: the proof's own CPU over the benchmark's build of it, here: median "
            f"{statistics.median(ratios):.2f}, worst {max(ratios):.2f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm", type=int, default=200, help="trivial checks to time in each build")
    ap.add_argument("--s2n-suite", type=Path, help="an imported s2n-bignum suite (its images are built on first use)")
    ap.add_argument("--timeout-map", type=Path, help="the benchmark's timeout-map.json, with prove_secs")
    ap.add_argument("--sample", type=int, default=10, help="s2n-bignum problems to check")
    ap.add_argument("--files", type=int, default=2, help="proof files the sample comes from (each a template walk)")
    ap.add_argument("--min-s", type=float, default=1.0, help="shortest reference time of a sampled problem")
    ap.add_argument("--max-s", type=float, default=300.0, help="longest reference time of a sampled problem")
    ap.add_argument(
        "--match", action="append", help="only proof files whose path holds this (repeatable; e.g. arm/proofs/bignum_)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="check each proof this many times; the median counts")
    ap.add_argument("--id", action="append", help="check this problem (repeatable; in place of a random sample)")
    ap.add_argument(
        "--benchmark-build",
        action="store_true",
        help="also build and time each proof as the benchmark's harness does, in the native image (minutes each)",
    )
    ap.add_argument("--skip-core", action="store_true", help="only the s2n-bignum part")
    ap.add_argument("--only", choices=[b.value for b in BUILDS], help="the s2n-bignum part in this build only")
    ap.add_argument(
        "--no-text-walk", action="store_true", help="native: skip the run that walks base.ml's text, not compiled"
    )
    args = ap.parse_args()
    settings = Settings(checkers=1, apt_ignore_valid_until=True, memory_mb=6144, load_timeout_s=3600)
    if not args.skip_core:
        core(settings, args.warm)
    if args.s2n_suite is not None:
        if args.timeout_map is None:
            ap.error("--s2n-suite needs --timeout-map (the reference times)")
        s2n(settings, args.s2n_suite, args.timeout_map, args)


if __name__ == "__main__":
    main()
