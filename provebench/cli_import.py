"""``provebench suites import``: arguments and printing (the importers are in ``provebench.suites``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from provebench.errors import UserError

EXIT_OK = 0


def add_parser(ssub: Any) -> None:
    """Add ``suites import``."""
    imp = ssub.add_parser(
        "import",
        help="import an upstream benchmark as a suite",
        description="Import CombiBench from its dataset JSONL or a CombiBench checkout; or s2n-bignum-bench as "
        "published (--revision: the problem set of the paper, or of the leaderboard's April 2026 results, "
        "reproduced from s2n-bignum's history), from its published artefacts (problems.json and ml_files/), or "
        "straight from any s2n-bignum checkout (every top-level theorem of every proof file; slow: minutes). The "
        "suite is written to the user's suite folder (or --out), never into provebench: the statements are the "
        "benchmark's.",
    )
    imp.add_argument("benchmark", choices=["combibench", "s2n-bignum"], help="which benchmark")
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="combibench: the dataset JSONL or a checkout; s2n-bignum: folder with problems.json and ml_files/",
    )
    src.add_argument("--from-source", metavar="S2N_CHECKOUT", help="s2n-bignum: an s2n-bignum checkout, at its HEAD")
    src.add_argument(
        "--revision",
        metavar="NAME",
        help="s2n-bignum: a published problem set: paper (2,284 problems), leaderboard-2026-04 (2,301) or "
        "refresh-2026-08 (2,622); the counts are checked",
    )
    imp.add_argument(
        "--s2n-bignum-src",
        metavar="CLONE",
        help="with --revision: a clone of s2n-bignum with its history (default: cloned from GitHub)",
    )
    imp.add_argument(
        "--bench-src",
        metavar="CLONE",
        help="with --revision: a clone of s2n-bignum-bench with its history, for the revision's timeout map "
        "(or give the map with --timeout-map; default: cloned from GitHub)",
    )
    imp.add_argument("--arch", choices=["arm", "x86", "all"], default="all", help="with --from-source (default all)")
    imp.add_argument(
        "--function",
        action="append",
        default=[],
        help="with --from-source: only this function's proof file and what it loads (repeatable)",
    )
    imp.add_argument("--timeout-map", metavar="FILE", help="the benchmark's timeout-map.json (per-problem timeouts)")
    imp.add_argument(
        "--timeout-scale",
        type=float,
        default=None,
        metavar="X",
        help="s2n-bignum: multiply the benchmark's timeouts by X, which were set for its native build (default "
        "4: reference proofs took 3.3-5.2 times as long in the bytecode toplevel of provebench's image)",
    )
    imp.add_argument("--s2n-commit", help="the s2n-bignum commit the artefacts were built from (recorded)")
    imp.add_argument("--out", help="suite folder to write (default: the user's suite folder/<name>)")


def cmd_import(args: argparse.Namespace, settings: Any, out: Console, err: Console) -> int:
    """``provebench suites import``."""
    if args.benchmark == "combibench":
        if args.timeout_scale is not None:
            raise UserError("--timeout-scale is for s2n-bignum, whose timeouts were set for a native build")
        return _import_combibench(args, settings, out)
    from provebench.suites import s2n_bignum

    if (args.s2n_bignum_src or args.bench_src) and not args.revision:
        raise UserError("--s2n-bignum-src and --bench-src go with --revision (--from-source takes a checkout)")

    def progress(line: str) -> None:
        err.print(line, style="dim", markup=False)

    target = Path(args.out) if args.out else settings.suites_dir / s2n_bignum.SUITE_NAME
    timeout_map = Path(args.timeout_map) if args.timeout_map else None
    scale = s2n_bignum.TIMEOUT_SCALE if args.timeout_scale is None else args.timeout_scale
    if not scale > 0:
        raise UserError("--timeout-scale must be a positive number")
    if args.revision or args.from_source:
        if args.revision:
            from provebench.suites.s2n_revisions import import_revision

            s2n_src = Path(args.s2n_bignum_src) if args.s2n_bignum_src else None
            bench_src = Path(args.bench_src) if args.bench_src else None
            rev, found = import_revision(args.revision, target, s2n_src, bench_src, timeout_map, progress, scale)
            published = "the published counts" if rev.counts_published else f"the published total of {rev.total}"
            err.print(f"revision {rev.name}: {published}; comparable to {rev.comparable}", markup=False)
        else:
            from provebench.suites.s2n_source import import_source

            arches = ("arm", "x86") if args.arch == "all" else (args.arch,)
            found = import_source(
                Path(args.from_source), target, timeout_map, arches, progress, tuple(args.function), scale
            )
        report = found.report
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(found.dropped.items())) or "none"
        err.print(f"left out as the benchmark does: {dropped}", markup=False)
        for skipped in found.skipped_files:
            err.print(f"skipped (the benchmark would not skip it): {skipped}", markup=False)
    else:
        metadata = {"s2n_bignum_commit": args.s2n_commit} if args.s2n_commit else {}
        report = s2n_bignum.import_artefacts(Path(args.source), target, timeout_map, metadata, scale)
    cats = ", ".join(f"{n} {c}" for c, n in sorted(report.by_category.items()))
    out.print(
        f"imported {report.problems} problems ({cats}) with {report.templates} templates into {report.out}",
        markup=False,
    )
    err.print(s2n_bignum.timeouts_line(report, scale), markup=False)
    return EXIT_OK


def _import_combibench(args: argparse.Namespace, settings: Any, out: Console) -> int:
    from provebench.suites import combibench

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
