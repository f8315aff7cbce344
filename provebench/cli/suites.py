"""``provebench suites list|show|selftest|import``: the suites here, and their reference proofs checked."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.table import Table

from provebench.cli import images
from provebench.cli.check import engine_for, exit_for
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_OK
from provebench.cli.suites_import import cmd_import
from provebench.core.errors import UserError
from provebench.core.model import Problem, Verdict
from provebench.core.settings import Settings
from provebench.runs import selftest
from provebench.suites import check_requests as checking
from provebench.suites.load import Suite, list_suites, load_suite
from provebench.systems.lean.fill_in import FillInAnswer


def _list_problems(suite: Suite, categories: list[str] | None, as_json: bool) -> int:
    """``suites show SUITE --problems``: one id per line (with category and timeout), or JSON."""
    problems = list(suite.problems)
    if categories:
        known = {p.category for p in problems}
        unknown = sorted(set(categories) - known)
        if unknown:
            raise UserError(f"suite {suite.name} has no category {unknown[0]!r}; it has: {', '.join(sorted(known))}")
        problems = [p for p in problems if p.category in categories]
    if as_json:
        rows = [{"id": p.id, "category": p.category, "kind": p.kind.value, "timeout_s": p.timeout_s} for p in problems]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max((len(p.id) for p in problems), default=0)
    for p in problems:
        print(f"{p.id:{width}}  {p.category}  {p.timeout_s:g} s")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    suite = checking.load_suite_arg(args.suite, settings)
    if args.category and not args.problems:
        raise UserError("--category goes with --problems")
    if args.problems:
        return _list_problems(suite, args.category, args.json)
    by_kind = Counter(p.kind.value for p in suite.problems)
    by_category = Counter(p.category for p in suite.problems)
    info: dict[str, Any] = {
        "name": suite.name,
        "system": suite.manifest.system.value,
        "version": suite.manifest.version,
        "path": str(suite.path),
        "content_hash": suite.content_hash,
        "checker_image": suite.manifest.checker_image,
        "problems": len(suite.problems),
        "by_kind": dict(sorted(by_kind.items())),
        "by_category": dict(sorted(by_category.items())),
        "with_reference_proof": sum(p.reference_proof is not None for p in suite.problems),
        "with_answer": sum(p.extension(FillInAnswer) is not None for p in suite.problems),
        "metadata": suite.manifest.metadata,
        "timeout_scale": suite.manifest.timeout_scale,
    }
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return EXIT_OK
    out.print(f"[bold]{suite.name}[/] ({info['system']}, version {suite.manifest.version}) at {suite.path}")
    out.print(f"{len(suite.problems)} problems; checker image {suite.manifest.checker_image}", markup=False)
    if suite.manifest.timeout_scale != 1:
        out.print(f"timeouts: the problems' own, multiplied by {suite.manifest.timeout_scale:g}", markup=False)
    table = Table("", "problems")
    for k, n in info["by_kind"].items():
        table.add_row(f"kind {k}", str(n))
    for c, n in info["by_category"].items():
        table.add_row(f"category {c}", str(n))
    out.print(table)
    return EXIT_OK


def cmd_suites(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench suites list|show|selftest|import``."""
    if args.suites_command == "show":
        return _cmd_show(args, settings)
    if args.suites_command == "import":
        return cmd_import(args, settings, out, err)
    if args.suites_command == "list":
        for folder in list_suites(settings.suites_dir):
            try:
                s = load_suite(folder)
                out.print(f"{s.name:24} {s.manifest.system.value:10} {len(s.problems):5} problems  {folder}")
            except UserError as exc:
                out.print(f"{folder.name:24} (invalid: {exc})", markup=False)
        return EXIT_OK
    suite = checking.load_suite_arg(args.suite, settings)
    plan = selftest.plan_selftest(suite, args.sample, args.seed, args.max_timeout)
    if plan.left_out:
        err.print(f"left out (timeout over {args.max_timeout:g} s): {', '.join(plan.left_out)}", markup=False)
    journal = (
        selftest.SelftestJournal(selftest.journal_path(Path(args.journal), suite), suite) if args.journal else None
    )
    images.ensure_images(settings, {p.checker_image for p in plan.problems})
    earlier = selftest.still_valid(journal, plan.problems, settings) if journal else {}
    if earlier:
        err.print(f"[dim]{len(earlier)} of {len(plan.problems)} verdicts from {args.journal}[/]")
    t0 = time.monotonic()
    done = len(earlier)

    shown = threading.Lock()  # checkers report from their own threads: each line's count is its own

    def show(p: Problem, v: Verdict) -> None:  # as each comes: long selftests show their progress
        nonlocal done
        with shown:
            done += 1
            if journal is not None:
                journal.append(p, v)
            if args.json:
                err.print(f"[dim]{done}/{len(plan.problems)} {v.status.value} {p.id}[/]", markup=True)
            else:
                _print_line(p.id, v)

    engine = engine_for(settings)
    try:
        result = selftest.run_selftest(engine, suite, plan, earlier, settings.checkers, show)
    except KeyboardInterrupt:
        if journal is not None:
            err.print(f"provebench: interrupted; {done} verdicts journalled in {args.journal}: run again to go on")
        raise
    finally:
        engine.close()
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        counts = Counter(v.status.value for v in result.verdicts)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        left = f"; {len(plan.left_out)} left out by --max-timeout" if plan.left_out else ""
        out.print(
            f"[bold]{suite.name}: {result.passed}/{len(result.verdicts)} reference proofs pass[/] ({summary}) "
            f"in {time.monotonic() - t0:.1f} s{left}"
        )
        if (tight := result.tightest()) is not None:
            out.print(
                f"closest to its timeout: {tight['problem']}, {tight['seconds']:.1f} s of {tight['timeout_s']:g} s "
                f"({tight['share']:.0%})",
                markup=False,
            )
    return exit_for(result.verdicts)


def _print_line(label: str, v: Verdict) -> None:
    colour = "green" if v.passed else "red"
    first = v.messages[0].splitlines()[0][:100] if v.messages else ""
    out.print(f"[{colour}]{v.status.value:8}[/] {label:28} {v.check_seconds * 1000:8.1f} ms  {first}")
