"""``provebench suites import``: arguments and printing (the importers are in ``provebench.suites``)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rich.console import Console

from provebench.cli.exit_codes import EXIT_OK
from provebench.core.errors import UserError
from provebench.suites import combibench, s2n_bignum
from provebench.suites.s2n_revisions import import_revision
from provebench.suites.s2n_source import import_source

# s2n-bignum's bytecode scale is 4; a thousand times the benchmark's limits is no longer its limits.
MAX_TIMEOUT_SCALE = 1000.0


def cmd_import(args: argparse.Namespace, settings: Any, out: Console, err: Console) -> int:
    """``provebench suites import``."""
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"{args.out}: is a file; --out names a new suite folder")  # the importers write folders
    if args.benchmark == "combibench":
        if args.timeout_scale is not None:
            raise UserError("--timeout-scale is for s2n-bignum, whose timeouts were set for a native build")
        return _import_combibench(args, settings, out)
    if (args.s2n_bignum_src or args.bench_src) and not args.revision:
        raise UserError("--s2n-bignum-src and --bench-src go with --revision (--from-source takes a checkout)")

    def progress(line: str) -> None:
        err.print(line, style="dim", markup=False)

    target = Path(args.out) if args.out else settings.suites_dir / s2n_bignum.SUITE_NAME
    timeout_map = Path(args.timeout_map) if args.timeout_map else None
    # Native checkers by default: measured here they check the reference proofs in about half the benchmark's
    # own times and walk templates twice as fast as bytecode (benchmarks/native.py). Such a suite keeps the
    # benchmark's own timeouts, which its native build set.
    native = settings.checker_build is None or settings.checker_build.value == "native"
    default_scale = 1.0 if native else s2n_bignum.TIMEOUT_SCALE
    scale = default_scale if args.timeout_scale is None else args.timeout_scale
    checker = "native" if native else None
    if not (math.isfinite(scale) and 0 < scale <= MAX_TIMEOUT_SCALE):
        raise UserError(f"--timeout-scale must be a positive number, at most {MAX_TIMEOUT_SCALE:g}")
    if args.revision or args.from_source:
        if args.revision:
            s2n_src = Path(args.s2n_bignum_src) if args.s2n_bignum_src else None
            bench_src = Path(args.bench_src) if args.bench_src else None
            rev, found = import_revision(
                args.revision, target, s2n_src, bench_src, timeout_map, progress, scale, checker
            )
            published = "the published counts" if rev.counts_published else f"the published total of {rev.total}"
            err.print(f"revision {rev.name}: {published}; comparable to {rev.comparable}", markup=False)
        else:
            arches = ("arm", "x86") if args.arch == "all" else (args.arch,)
            found = import_source(
                Path(args.from_source),
                target,
                timeout_map,
                arches,
                progress,
                tuple(args.function),
                scale,
                checker=checker,
            )
        report = found.report
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(found.dropped.items())) or "none"
        err.print(f"left out as the benchmark does: {dropped}", markup=False)
        for skipped in found.skipped_files:
            err.print(f"skipped (the benchmark would not skip it): {skipped}", markup=False)
    else:
        metadata = {"s2n_bignum_commit": args.s2n_commit} if args.s2n_commit else {}
        report = s2n_bignum.import_artefacts(Path(args.source), target, timeout_map, metadata, scale, checker)
    cats = ", ".join(f"{n} {c}" for c, n in sorted(report.by_category.items()))
    out.print(
        f"imported {report.problems} problems ({cats}) with {report.templates} templates into {report.out}",
        markup=False,
    )
    err.print(s2n_bignum.timeouts_line(report, scale), markup=False)
    err.print(s2n_bignum.prompts_line(report), markup=False)
    return EXIT_OK


def _import_combibench(args: argparse.Namespace, settings: Any, out: Console) -> int:
    if args.source is None:
        raise UserError("combibench is imported --from its dataset JSONL or a CombiBench checkout")
    target = Path(args.out) if args.out else settings.suites_dir / combibench.SUITE_NAME
    report = combibench.import_combibench(Path(args.source), target)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.by_kind.items()))
    out.print(
        f"imported {report.problems} problems ({kinds}) of CombiBench {report.revision[:12]} into {report.out}",
        markup=False,
    )
    return EXIT_OK
