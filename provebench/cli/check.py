"""The commands that check on this machine's checkers: ``check``, ``images`` and ``suites``, with their printing."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from provebench import containers
from provebench.checking.engine import Engine, starting_line
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_OK, EXIT_VERDICT
from provebench.cli.verdict_text import verdict_lines
from provebench.containers import sources
from provebench.containers.build_progress import BuildProgress
from provebench.containers.engine import DockerEngine
from provebench.core.errors import UserError
from provebench.core.model import Problem, Status, System, Verdict
from provebench.core.settings import Backend, Settings
from provebench.core.texts import read_proof
from provebench.runs import selftest
from provebench.suites import check_requests as checking
from provebench.suites.load import Suite, list_suites, load_suite
from provebench.systems.hol_light.template_text import compiled_context_text
from provebench.systems.lean.fill_in import FillInAnswer

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_out, _err = out, err  # the names the commands below print with


class DimLines(logging.Handler):
    """Progress notes of the library (walks through large templates) as dim lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        """One dim line."""
        err.print(Text(self.format(record), style="dim"))


def _progress(line: str) -> None:
    _err.print(line, style="dim", markup=False)


def engine_for(settings: Settings) -> Engine:
    """The engine of a command, saying when its checkers start (or that a service checks)."""
    return Engine(settings, on_start=lambda system: _err.print(starting_line(settings, system) + "...", style="dim"))


def ensure_images(settings: Settings, names: set[str]) -> None:
    """Build missing images with visible progress before a verifier needs them."""
    if settings.backend is Backend.LOCAL or settings.server is not None:
        return
    engine = DockerEngine(settings)
    build = settings.checker_build.value if settings.checker_build is not None else None
    for name in sorted({containers.image_for_build(n, build) for n in names}):
        r, revision = containers.parse_image_ref(name)
        if engine.find_image(r, revision) is None:
            _err.print(f"[bold]building checker image {name}[/] (first use)")
            with BuildProgress(_err, settings.cache_dir / "logs", name) as progress:
                engine.ensure_image(r, progress, revision)


def verdict_json(verdict: Verdict, item_id: Any) -> dict[str, Any]:
    """The JSON shape of a verdict on the command line."""
    return {"id": item_id, **verdict.model_dump(mode="json")}


def print_verdict(verdict: Verdict, label: str) -> None:
    """A verdict as ``check`` prints it."""
    first, *rest = verdict_lines(verdict.model_dump(mode="json"), label)
    colour = {Status.PASS: "green", Status.FAIL: "red", Status.TIMEOUT: "yellow"}.get(verdict.status, "magenta")
    status, _, tail = first.partition(" ")
    _out.print(f"[bold {colour}]{status}[/] {tail}", highlight=False)
    for line in rest:
        _out.print(line, markup=False)


def exit_for(verdicts: Sequence[Verdict]) -> int:
    """0 if every verdict is PASS, 3 if any is ERROR, else 1."""
    if any(v.status is Status.ERROR for v in verdicts):
        return EXIT_INFRA
    return EXIT_OK if all(v.status is Status.PASS for v in verdicts) else EXIT_VERDICT


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench check``: one proof or a batch, on this machine's checkers (or through ``--server``)."""
    suite = checking.load_suite_arg(args.suite, settings) if args.suite else None
    system = System(args.system) if args.system else None
    if args.batch:
        items = checking.parse_batch(args.batch, suite, system, args.timeout)
        ensure_images(settings, {it.problem.checker_image for it in items})
        engine = engine_for(settings)
        try:
            verdicts = []
            pairs = [(it.problem, it.proof) for it in items]
            for it, v in zip(items, engine.map(pairs, args.timeout), strict=False):
                verdicts.append(v)
                print(json.dumps(verdict_json(v, it.id)), flush=True)
        finally:
            engine.close()
        return exit_for(verdicts)
    if "checkers" not in settings.model_fields_set:
        settings = settings.model_copy(update={"checkers": 1})  # one proof: one checker to load
    if suite is not None:
        if not args.problem:
            raise UserError("--suite needs --problem (or use --batch)")
        problem = suite.problem(args.problem)
    elif system is not None and args.goal is not None:
        problem = checking.adhoc_problem(system, args.goal, args.timeout)
    else:
        raise UserError("say what to prove: --suite NAME --problem ID, or --system SYSTEM --goal TERM")
    limit = settings.max_proof_bytes
    proof = read_proof(args.proof, limit, lambda: sys.stdin.buffer.read(limit + 1))
    ensure_images(settings, {problem.checker_image})
    engine = engine_for(settings)
    try:
        verdict = engine.check(problem, proof, args.timeout).verdict
    finally:
        engine.close()
    if args.json:
        print(json.dumps(verdict_json(verdict, problem.id)))
    else:
        print_verdict(verdict, problem.id)
    return exit_for([verdict])


def cmd_images(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench images build|list|prune``."""
    engine = DockerEngine(settings, compiled_context_text)
    if args.images_command == "build":
        with ExitStack() as stack:
            source = None
            if args.s2n_bignum_src:
                source = sources.SourceTree.from_checkout("s2n-bignum", Path(args.s2n_bignum_src))
            elif args.s2n_bignum or "hol-light-s2n" in args.names:
                ref = args.s2n_bignum or containers.DEFAULT_SOURCES["s2n-bignum"]
                source = stack.enter_context(sources.fetched_source("s2n-bignum", ref, _progress))
            names = args.names or sorted(n for n, r in containers.RECIPES.items() if r.source is None or source)
            for name in names:
                r = containers.recipe(name)
                tree = source if r.source is not None else None
                info = None if args.rebuild else engine.find_image(r, tree.revision if tree else None)
                if info is None:
                    _err.print(f"[bold]building {name}[/]")
                    with BuildProgress(_err, settings.cache_dir / "logs", name) as progress:
                        info = engine.build_image(r, progress, tree)
                _out.print(
                    f"{info.name}  {info.tag}  {info.digest}  {info.version}  packages {info.packages}", markup=False
                )
        return EXIT_OK
    if args.images_command == "prune":
        return _prune_images(engine, dry_run=args.dry_run)
    images = engine.list_images()
    if args.json:
        print(json.dumps([vars(i) for i in images], indent=2))
        return EXIT_OK
    if not images:
        _out.print("no checker images built yet (provebench images build)")
        return EXIT_OK
    # No borders and a short digest: a tag (it names the image) fits whole in 80 columns.
    table = Table("tag", "digest", "size", "current", box=None, pad_edge=False, collapse_padding=True)
    for i in images:
        current = "yes" if engine.is_current(i) else "no"
        table.add_row(i.tag, i.digest.removeprefix("sha256:")[:12], f"{i.size_bytes / 1e9:.2f} GB", current)
    _out.print(table)
    versions = sorted({i.version for i in images})
    _out.print(f"proof-system version{'s' if len(versions) > 1 else ''}: {', '.join(versions)} (--json: per image)")
    return EXIT_OK


def _prune_images(engine: DockerEngine, dry_run: bool) -> int:
    images = engine.list_images()
    stale = [i for i in images if not engine.is_current(i)]
    if not stale:
        _out.print(f"no stale checker images ({len(images)} current)")
        return EXIT_OK
    before = 0 if dry_run else engine.layers_bytes()
    kept = 0
    for i in stale:
        if dry_run:
            _out.print(f"would remove {i.tag}  {i.digest[:19]}", markup=False)
            continue
        why = engine.remove_image(i)
        kept += why is not None
        _out.print(f"removed {i.tag}" if why is None else f"kept {i.tag}: {why}", markup=False)
    if not dry_run:
        freed = max(0, before - engine.layers_bytes())
        _out.print(f"removed {len(stale) - kept} stale image(s), freed {freed / 1e9:.2f} GB; kept {kept} in use")
    return EXIT_OK


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
    _out.print(f"[bold]{suite.name}[/] ({info['system']}, version {suite.manifest.version}) at {suite.path}")
    _out.print(f"{len(suite.problems)} problems; checker image {suite.manifest.checker_image}", markup=False)
    if suite.manifest.timeout_scale != 1:
        _out.print(f"timeouts: the problems' own, multiplied by {suite.manifest.timeout_scale:g}", markup=False)
    table = Table("", "problems")
    for k, n in info["by_kind"].items():
        table.add_row(f"kind {k}", str(n))
    for c, n in info["by_category"].items():
        table.add_row(f"category {c}", str(n))
    _out.print(table)
    return EXIT_OK


def cmd_suites(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench suites list|show|selftest|import``."""
    if args.suites_command == "show":
        return _cmd_show(args, settings)
    if args.suites_command == "import":
        from provebench.cli import suites_import as cli_import

        return cli_import.cmd_import(args, settings, _out, _err)
    if args.suites_command == "list":
        for folder in list_suites(settings.suites_dir):
            try:
                s = load_suite(folder)
                _out.print(f"{s.name:24} {s.manifest.system.value:10} {len(s.problems):5} problems  {folder}")
            except UserError as exc:
                _out.print(f"{folder.name:24} (invalid: {exc})", markup=False)
        return EXIT_OK
    suite = checking.load_suite_arg(args.suite, settings)
    plan = selftest.plan_selftest(suite, args.sample, args.seed, args.max_timeout)
    if plan.left_out:
        _err.print(f"left out (timeout over {args.max_timeout:g} s): {', '.join(plan.left_out)}", markup=False)
    journal = (
        selftest.SelftestJournal(selftest.journal_path(Path(args.journal), suite), suite) if args.journal else None
    )
    ensure_images(settings, {p.checker_image for p in plan.problems})
    earlier = selftest.still_valid(journal, plan.problems, settings) if journal else {}
    if earlier:
        _err.print(f"[dim]{len(earlier)} of {len(plan.problems)} verdicts from {args.journal}[/]")
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
                _err.print(f"[dim]{done}/{len(plan.problems)} {v.status.value} {p.id}[/]", markup=True)
            else:
                _print_line(p.id, v)

    engine = engine_for(settings)
    try:
        result = selftest.run_selftest(engine, suite, plan, earlier, settings.checkers, show)
    except KeyboardInterrupt:
        if journal is not None:
            _err.print(f"provebench: interrupted; {done} verdicts journalled in {args.journal}: run again to go on")
        raise
    finally:
        engine.close()
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        counts = Counter(v.status.value for v in result.verdicts)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        left = f"; {len(plan.left_out)} left out by --max-timeout" if plan.left_out else ""
        _out.print(
            f"[bold]{suite.name}: {result.passed}/{len(result.verdicts)} reference proofs pass[/] ({summary}) "
            f"in {time.monotonic() - t0:.1f} s{left}"
        )
        if (tight := result.tightest()) is not None:
            _out.print(
                f"closest to its timeout: {tight['problem']}, {tight['seconds']:.1f} s of {tight['timeout_s']:g} s "
                f"({tight['share']:.0%})",
                markup=False,
            )
    return exit_for(result.verdicts)


def _print_line(label: str, v: Verdict) -> None:
    colour = "green" if v.passed else "red"
    first = v.messages[0].splitlines()[0][:100] if v.messages else ""
    _out.print(f"[{colour}]{v.status.value:8}[/] {label:28} {v.check_seconds * 1000:8.1f} ms  {first}")
