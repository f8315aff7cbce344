"""The ``provebench`` command: argument parsing, printing and exit codes only.

Exit codes: 0 PASS (or success), 1 a proof verdict other than PASS,
2 bad usage or bad input, 3 infrastructure error (checker or prover unavailable),
130 interrupted (a run's journal is kept; resume it).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
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

from provebench import __version__, checking, cli_board, cli_import, cli_run, containers, selftest, sources
from provebench.errors import UserError, VerifierUnavailable
from provebench.model import Problem, Status, System, Verdict
from provebench.settings import Backend, Settings
from provebench.suites.load import list_suites, load_suite

EXIT_OK, EXIT_VERDICT, EXIT_USAGE, EXIT_INFRA = 0, 1, 2, 3

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors exit 2 with one line
        self.exit(EXIT_USAGE, f"provebench: error: {message} (see --help)\n")


def _common_options() -> _Parser:
    """Options accepted before or after the subcommand."""
    c = _Parser(add_help=False)
    c.add_argument(
        "--backend", choices=[b.value for b in Backend], default=None, help="where checkers run (default: docker)"
    )
    c.add_argument("--checkers", type=int, default=None, help="warm checkers per context (default: 1)")
    c.add_argument(
        "--memory-mb", type=int, default=None, help="memory limit of one check in MB (default: the suite's, or 4096)"
    )
    c.add_argument(
        "--image-revision",
        metavar="COMMIT",
        default=None,
        help="check s2n-bignum problems in the image built from this commit, not the suite's own (verdicts may differ)",
    )
    return c


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="provebench",
        description="Run formal theorem-proving benchmarks with pinned, sandboxed proof checkers.",
        epilog="Exit codes: 0 PASS or success, 1 another verdict, 2 bad usage or input, "
        "3 checker or prover unavailable, 130 interrupted (a run keeps its journal: resume it).",
    )
    p.add_argument("--version", action="version", version=f"provebench {__version__}")
    common = _common_options()
    for action in common._actions:
        p._add_action(action)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    common = _suppressed(_common_options())
    c = sub.add_parser(
        "check",
        parents=[common],
        help="check one proof, or a batch of proofs",
        description="Check a proof of a suite problem (--suite/--problem) or of an ad-hoc goal (--system/--goal). "
        "With --batch, check every line of a JSONL file on warm checkers.",
    )
    c.add_argument("proof", nargs="?", default="-", help="proof file, or - for standard input (default)")
    c.add_argument("--suite", help="suite name or folder")
    c.add_argument("--problem", help="problem id in the suite")
    c.add_argument("--system", choices=[s.value for s in System], help="proof system of --goal")
    c.add_argument("--goal", help="the statement to prove, e.g. '`!n. n + 0 = n`' for HOL Light")
    c.add_argument("--batch", metavar="FILE", help="JSONL: {proof, problem|goal, id?} per line; JSONL verdicts out")
    c.add_argument("--timeout", type=float, help="seconds per check (default: the problem's, or 30 for goals)")
    c.add_argument("--json", action="store_true", help="print the verdict as one JSON object")

    i = sub.add_parser("images", help="build and list checker images")
    isub = i.add_subparsers(dest="images_command", required=True, parser_class=_Parser)
    b = isub.add_parser(
        "build", parents=[common], help="build checker images (all by default); a current image is kept"
    )
    b.add_argument("names", nargs="*", help=f"images to build: {', '.join(containers.RECIPES)}")
    b.add_argument(
        "--apt-ignore-valid-until", action="store_true", help="accept an expired Release file (frozen mirrors)"
    )
    where = b.add_mutually_exclusive_group()
    where.add_argument(
        "--s2n-bignum",
        metavar="URL@COMMIT",
        help=f"fetch s2n-bignum for hol-light-s2n at this commit (default: {containers.DEFAULT_SOURCES['s2n-bignum']})",
    )
    where.add_argument(
        "--s2n-bignum-src",
        metavar="CHECKOUT",
        help="build hol-light-s2n from a git checkout of s2n-bignum instead (air-gapped; its HEAD commit is recorded)",
    )
    lst = isub.add_parser("list", help="list built checker images with their digests")
    lst.add_argument("--json", action="store_true")
    prune = isub.add_parser(
        "prune",
        help="remove checker images that are no longer current (each provebench upgrade that changes a "
        "checker builds a new one); images in use by a container are kept",
    )
    prune.add_argument("--dry-run", action="store_true", help="only list what would be removed")

    s = sub.add_parser("suites", help="list suites, check reference proofs")
    ssub = s.add_subparsers(dest="suites_command", required=True, parser_class=_Parser)
    ssub.add_parser("list", help="bundled and imported suites")
    t = ssub.add_parser("selftest", parents=[common], help="check the suite's reference proofs with its checker")
    t.add_argument("suite", help="suite name or folder")
    t.add_argument("--sample", type=int, help="check a random sample of this many problems")
    t.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    t.add_argument(
        "--max-timeout",
        type=float,
        metavar="SECONDS",
        help="leave out problems whose timeout is longer (reported as left out): a quicker check of an image, "
        "since s2n-bignum's longest reference proofs take hours",
    )
    t.add_argument("--json", action="store_true")
    t.add_argument(
        "--journal",
        metavar="FILE",
        help="append each verdict to this JSONL file; run again with the same file to check only what is "
        "not in it yet (selftests of large suites take hours)",
    )
    show = ssub.add_parser("show", help="what a suite holds: problems by kind and category")
    show.add_argument("suite", help="suite name or folder")
    show.add_argument("--json", action="store_true")
    cli_import.add_parser(ssub)
    cli_run.add_parsers(sub, common)
    cli_board.add_parsers(sub, common)
    return p


def _suppressed(parser: _Parser) -> _Parser:
    """The common options, not overwriting values given before the subcommand."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    update: dict[str, Any] = {}
    if args.backend:
        update["backend"] = Backend(args.backend)
    if args.checkers is not None:
        if args.checkers < 1:
            raise UserError("--checkers must be at least 1")
        update["checkers"] = args.checkers
    if args.memory_mb is not None:
        if args.memory_mb < 256:
            raise UserError("--memory-mb must be at least 256")
        update["memory_mb"] = args.memory_mb
    if args.image_revision is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{7,40}", args.image_revision):
            raise UserError("--image-revision wants a commit hash (at least 7 hex digits)")
        update["image_revision"] = args.image_revision.lower()
    if getattr(args, "apt_ignore_valid_until", False):
        update["apt_ignore_valid_until"] = True
    return settings.model_copy(update=update)


def _progress(line: str) -> None:
    _err.print(line, style="dim", markup=False)


def _pool(settings: Settings) -> checking.VerifierPool:
    def started(system: System) -> None:
        _err.print(
            f"[dim]starting up to {settings.checkers} warm {system.value} checker(s), as many as fit the memory "
            "budget; loading takes a while...[/]"
        )

    return checking.VerifierPool(settings, on_start=started)


def _ensure_images(settings: Settings, names: set[str]) -> None:
    """Build missing images with visible progress before a verifier needs them."""
    if settings.backend is Backend.LOCAL:
        return
    engine = containers.DockerEngine(settings)
    for name in sorted(names):
        r, revision = containers.parse_image_ref(name)
        if engine.find_image(r, revision) is None:
            _err.print(f"[bold]building checker image {name}[/] (first use)")
            engine.ensure_image(r, _progress, revision)


def verdict_json(verdict: Verdict, item_id: Any) -> dict[str, Any]:
    """The JSON shape of a verdict on the command line."""
    return {"id": item_id, **verdict.model_dump(mode="json")}


def _print_verdict(verdict: Verdict, label: str) -> None:
    colour = {Status.PASS: "green", Status.FAIL: "red", Status.TIMEOUT: "yellow"}.get(verdict.status, "magenta")
    _out.print(
        f"[bold {colour}]{verdict.status.value}[/] ({verdict.reason.value}) {label}  {verdict.check_seconds:.3f} s"
    )
    if verdict.checker is not None:
        c = verdict.checker
        _out.print(f"checker: {c.recipe or c.image} {c.version} packages {c.packages} ({c.digest})", markup=False)
    if verdict.computed_goal is not None:
        _out.print(f"computed goal: {verdict.computed_goal}", markup=False)
    for m in verdict.messages:
        _out.print(m, markup=False)


def _exit_for(verdicts: Sequence[Verdict]) -> int:
    if any(v.status is Status.ERROR for v in verdicts):
        return EXIT_INFRA
    return EXIT_OK if all(v.status is Status.PASS for v in verdicts) else EXIT_VERDICT


def _cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    suite = checking.load_suite_arg(args.suite, settings) if args.suite else None
    system = System(args.system) if args.system else None
    if args.batch:
        items = checking.parse_batch(args.batch, suite, system, args.timeout)
        _ensure_images(settings, {it.problem.checker_image for it in items})
        pool = _pool(settings)
        try:
            verdicts = []
            pairs = [(it.problem, it.proof) for it in items]
            for it, v in zip(items, checking.check_many(pool, pairs, args.timeout, settings.checkers), strict=False):
                verdicts.append(v)
                print(json.dumps(verdict_json(v, it.id)), flush=True)
        finally:
            pool.close()
        return _exit_for(verdicts)
    if suite is not None:
        if not args.problem:
            raise UserError("--suite needs --problem (or use --batch)")
        problem = suite.problem(args.problem)
    elif system is not None and args.goal is not None:
        problem = checking.adhoc_problem(system, args.goal, args.timeout)
    else:
        raise UserError("say what to prove: --suite NAME --problem ID, or --system SYSTEM --goal TERM")
    proof = checking.read_proof(args.proof, settings.max_proof_bytes, lambda: sys.stdin.buffer.read())
    _ensure_images(settings, {problem.checker_image})
    pool = _pool(settings)
    try:
        verdict = pool.check(problem, proof, args.timeout)
    finally:
        pool.close()
    if args.json:
        print(json.dumps(verdict_json(verdict, problem.id)))
    else:
        _print_verdict(verdict, problem.id)
    return _exit_for([verdict])


def _cmd_images(args: argparse.Namespace, settings: Settings) -> int:
    engine = containers.DockerEngine(settings)
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
                info = engine.find_image(r, tree.revision if tree else None)
                if info is None:
                    _err.print(f"[bold]building {name}[/]")
                    info = engine.build_image(r, _progress, tree)
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


def _prune_images(engine: containers.DockerEngine, dry_run: bool) -> int:
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


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    suite = checking.load_suite_arg(args.suite, settings)
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
        "with_answer": sum(p.answer is not None for p in suite.problems),
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


def _cmd_suites(args: argparse.Namespace, settings: Settings) -> int:
    if args.suites_command == "show":
        return _cmd_show(args, settings)
    if args.suites_command == "import":
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
    journal = selftest.SelftestJournal(Path(args.journal), suite) if args.journal else None
    _ensure_images(settings, {p.checker_image for p in plan.problems})
    earlier = selftest.still_valid(journal, plan.problems, settings) if journal else {}
    if earlier:
        _err.print(f"[dim]{len(earlier)} of {len(plan.problems)} verdicts from {args.journal}[/]")
    t0 = time.monotonic()
    done = len(earlier)

    def show(p: Problem, v: Verdict) -> None:  # as each comes: long selftests show their progress
        nonlocal done
        done += 1
        if journal is not None:
            journal.append(p, v)
        if args.json:
            _err.print(f"[dim]{done}/{len(plan.problems)} {v.status.value} {p.id}[/]", markup=True)
        else:
            _print_line(p.id, v)

    pool = _pool(settings)
    try:
        result = selftest.run_selftest(pool, suite, plan, earlier, settings.checkers, show)
    except KeyboardInterrupt:
        if journal is not None:
            _err.print(f"provebench: interrupted; {done} verdicts journalled in {args.journal}: run again to go on")
        raise
    finally:
        pool.close()
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
    return _exit_for(result.verdicts)


def _print_line(label: str, v: Verdict) -> None:
    colour = "green" if v.passed else "red"
    first = v.messages[0].splitlines()[0][:100] if v.messages else ""
    _out.print(f"[{colour}]{v.status.value:8}[/] {label:28} {v.check_seconds * 1000:8.1f} ms  {first}")


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


class _DimLines(logging.Handler):
    """Progress notes of the library (walks through large templates) as dim lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        _err.print(Text(self.format(record), style="dim"))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _build_parser().parse_args(argv)
    notes = logging.getLogger("provebench")
    if not any(isinstance(h, _DimLines) for h in notes.handlers):
        notes.addHandler(_DimLines())
        notes.setLevel(logging.INFO)
    with ExitStack() as restore:
        if threading.current_thread() is threading.main_thread():
            # `kill` and a closed terminal stop provebench as Ctrl-C does, so that its checker containers
            # are removed on the way out instead of computing on after it.
            for sig in (signal.SIGTERM, signal.SIGHUP):
                restore.callback(signal.signal, sig, signal.signal(sig, _stop))
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        if args.command == "run":
            return cli_run.cmd_run(args, settings, _out, _err, _ensure_images)
        if args.command == "report":
            return cli_run.cmd_report(args, _out)
        if args.command == "submit":
            return cli_board.cmd_submit(args, settings, _out, _err)
        if args.command == "leaderboard":
            return cli_board.cmd_leaderboard(args, settings, _out, _err, _ensure_images)
        if args.command == "view":
            return cli_board.serve_report(args.rundir, args.port, _err)
        handler = {"check": _cmd_check, "images": _cmd_images, "suites": _cmd_suites}[args.command]
        return handler(args, settings)
    except UserError as exc:
        _err.print(f"provebench: error: {exc}", markup=False)
        return EXIT_USAGE
    except VerifierUnavailable as exc:
        _err.print(f"provebench: checker unavailable: {exc}", markup=False)
        return EXIT_INFRA
    except KeyboardInterrupt:
        _err.print("provebench: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
