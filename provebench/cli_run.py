"""``provebench run`` and ``provebench report``: arguments, live progress, summary tables."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from provebench.errors import RunStopped, UserError
from provebench.journal import AttemptRecord
from provebench.model import Status
from provebench.provers.api import PROVERS, make_prover
from provebench.report import summary_tables
from provebench.run import RunDir, RunHooks, RunPlan, execute, plan_run, summarize_run
from provebench.runconfig import RESUMABLE_OVERRIDES, RunConfig, build_config, read_config_file
from provebench.settings import Settings
from provebench.stats import Summary

EXIT_OK, EXIT_VERDICT, EXIT_USAGE, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``run`` and ``report`` subcommands."""
    r = sub.add_parser(
        "run",
        parents=[common],
        help="run a prover against a whole suite",
        description="Run a prover over every problem of a suite (n samples each, optional repair rounds), check "
        "every proof on warm pinned checkers, journal every attempt, and print pass@k. Flags override --config. "
        "A run directory (--out, default runs/<time>-<suite>-<prover>) holds config.yaml, manifest.json, "
        "attempts.jsonl and summary.json; --resume RUNDIR continues an interrupted run.",
    )
    r.add_argument("--config", metavar="FILE", help="run config (YAML); flags given here override it")
    r.add_argument("--resume", metavar="RUNDIR", help="continue an interrupted run (its own config is used)")
    r.add_argument("--suite", help="suite name or folder")
    r.add_argument("--prover", choices=sorted(PROVERS), help="where proofs come from (default: baseline)")
    r.add_argument("--model", help="model name (openai prover)")
    r.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (openai prover)")
    r.add_argument("--api-key-env", help="environment variable holding the API key (default OPENAI_API_KEY)")
    r.add_argument("--answers", metavar="FILE", help="answers file, CSV (problem_id, answer) or JSONL (replay)")
    r.add_argument("-n", "--samples", dest="n", type=int, help="attempts per problem (default 1; 16 for combibench)")
    r.add_argument(
        "--protocol",
        choices=["provebench", "combibench"],
        help="combibench: also judge each proof as CombiBench's harness does (answer examples appended, "
        "compiled together) and report that score beside provebench's; n defaults to 16",
    )
    r.add_argument("-k", dest="k", help="pass@k values to report, comma-separated (default 1..n)")
    r.add_argument("--repair-rounds", type=int, help="feed checker messages back this many times (default 0)")
    r.add_argument("--prover-connections", type=int, help="prover calls at once (default 8)")
    r.add_argument("--timeout", dest="timeout_s", type=float, help="seconds per check (default: each problem's)")
    r.add_argument("--infra-retries", type=int, help="retries of a check whose checker failed (default 2)")
    r.add_argument("--category", dest="categories", action="append", help="only this category (repeatable)")
    r.add_argument("--problem", dest="problems", action="append", help="only this problem id (repeatable)")
    r.add_argument("--problems-file", help="only the problem ids listed in this file, one per line")
    r.add_argument("--out", help="run directory to create (default runs/<time>-<suite>-<prover>)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON at the end")
    r.add_argument("--no-progress", action="store_true", help="no live progress bar")

    rep = sub.add_parser(
        "report",
        help="print a run's summary again, or write its HTML report",
        description="Summarize a run directory from its journal. --html writes a self-contained HTML report "
        "(summary, pass@k curve, per-category chart, a filterable table of attempts whose rows open the proof, "
        "the prover's raw reply and the checker's messages); `provebench view RUNDIR` serves it on localhost.",
    )
    rep.add_argument("rundir", help="a run directory")
    form = rep.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the summary as JSON")
    form.add_argument("--html", action="store_true", help="write the HTML report (default RUNDIR/report.html)")
    rep.add_argument("--out", help="with --html: the file to write")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user gave, in config terms."""
    out: dict[str, Any] = {}
    keys = ("suite", "n", "repair_rounds", "prover_connections", "timeout_s", "infra_retries", "categories", "protocol")
    for key in keys:
        if getattr(args, key) is not None:
            out[key] = getattr(args, key)
    if args.checkers is not None:
        out["checkers"] = args.checkers
    if args.problems is not None:
        out["problems"] = args.problems
    if args.problems_file is not None:
        out["problems_file"] = str(Path(args.problems_file).resolve())
    if args.out is not None:
        out["out"] = args.out
    if args.k is not None:
        try:
            out["k"] = [int(x) for x in args.k.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"-k takes comma-separated integers, not {args.k!r}") from None
    prover: dict[str, Any] = {}
    if args.prover is not None:
        prover["name"] = args.prover
    for key in ("model", "base_url", "api_key_env"):
        if getattr(args, key) is not None:
            prover[key] = getattr(args, key)
    if args.answers is not None:
        prover["answers"] = str(Path(args.answers).resolve())
    if prover:
        out["prover"] = prover
    return out


def _resolve_config(args: argparse.Namespace) -> tuple[RunConfig, RunDir | None]:
    overrides = _overrides(args)
    if args.resume:
        rundir = RunDir.existing(Path(args.resume))
        refused = sorted(set(overrides) - RESUMABLE_OVERRIDES)
        if refused or args.config:
            what = ", ".join(refused) if refused else "config"
            raise UserError(
                f"--resume uses the run's own config; only checkers, prover_connections and "
                f"infra_retries may change (got: {what})"
            )
        base = read_config_file(rundir.config_path)
        return build_config(base, overrides, str(rundir.config_path)), rundir
    base = read_config_file(Path(args.config)) if args.config else {}
    return build_config(base, overrides, args.config or "command line"), None


class _LiveProgress:
    """A rich progress bar over samples, with attempt counts by verdict and attempts per second."""

    LINE_EVERY_S = 10.0  # without a terminal: one status line this often

    def __init__(self, console: Console, enabled: bool) -> None:
        self._console = console
        self._enabled = enabled
        self._bar = enabled and console.is_terminal
        self._total = self._completed = 0
        self._last_line = 0.0
        self._progress: Progress | None = None
        self._task: Any = None
        self._counts: dict[str, Any] = {"attempts": 0, "passed": 0, "failed": 0, "errors": 0}
        self._t0 = time.monotonic()

    def started(self, total: int, pending: int, done: list[AttemptRecord]) -> None:
        self._t0 = time.monotonic()
        if done:
            self._console.print(f"[dim]resuming: {len(done)} attempts journalled, {pending} samples to go[/]")
        self._total, self._completed = total, total - pending
        self._last_line = self._t0
        if not self._bar:
            return
        self._progress = Progress(
            TextColumn("samples"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[attempts]} attempts: [green]{task.fields[passed]} pass[/] "
                "[red]{task.fields[failed]} fail[/] [magenta]{task.fields[errors]} error[/] "
                "{task.fields[rate]:.1f}/s"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._progress.start()
        self._task = self._progress.add_task("run", total=total, completed=total - pending, rate=0.0, **self._counts)

    def on_record(self, record: AttemptRecord, chain_done: bool) -> None:
        c = self._counts
        c["attempts"] += 1
        if record.status is Status.PASS:
            c["passed"] += 1
        elif record.status is Status.ERROR:
            c["errors"] += 1
        else:
            c["failed"] += 1
        self._completed += 1 if chain_done else 0
        now = time.monotonic()
        rate = c["attempts"] / max(1e-6, now - self._t0)
        if self._progress is not None:
            self._progress.update(self._task, advance=1 if chain_done else 0, rate=rate, **c)
        elif self._enabled and now - self._last_line >= self.LINE_EVERY_S:
            self._last_line = now
            self._console.print(
                f"samples {self._completed}/{self._total}, {c['attempts']} attempts: {c['passed']} pass, "
                f"{c['failed']} fail, {c['errors']} error, {rate:.1f}/s",
                markup=False,
            )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def cmd_run(
    args: argparse.Namespace,
    settings: Settings,
    out: Console,
    err: Console,
    ensure_images: Callable[[Settings, set[str]], None],
) -> int:
    """``provebench run``."""
    config, rundir = _resolve_config(args)
    if config.checkers is not None:
        settings = settings.model_copy(update={"checkers": config.checkers})
    plan: RunPlan = plan_run(config, settings)
    prover = make_prover(config.prover.name, config.prover.settings())
    if config.repair_rounds and not prover.can_repair:
        raise UserError(f"the {prover.name} prover cannot use repair rounds; set repair_rounds to 0")
    prover.prepare(plan.suite.problems)
    resume = rundir is not None
    if rundir is not None:
        rundir.lock()
        ensure_images(settings, {p.checker_image for p in plan.problems})
    else:
        new_path = RunDir.new_path(config.out, plan.suite.name, prover.name)
        ensure_images(settings, {p.checker_image for p in plan.problems})  # before the run directory exists
        rundir = RunDir.create(new_path, plan.suite.name, prover.name)
        rundir.lock()
    live = _LiveProgress(err, enabled=not args.no_progress)
    hooks = RunHooks(
        status=lambda text: err.print(f"[dim]{text}...[/]"), started=live.started, on_record=live.on_record
    )
    try:  # `kill` reaches here as Ctrl-C does (cli.main maps SIGTERM and SIGHUP to KeyboardInterrupt)
        summary = execute(plan, rundir, prover, settings, hooks, resume=resume)
    except KeyboardInterrupt:
        live.stop()
        err.print(
            f"provebench: interrupted; journal kept. Continue with: provebench run --resume {rundir.path}", markup=False
        )
        return EXIT_INTERRUPTED
    except RunStopped as exc:
        live.stop()
        err.print(
            f"provebench: run stopped: {exc}. Journal kept; continue with: provebench run --resume {rundir.path}",
            markup=False,
        )
        return EXIT_INFRA
    finally:
        live.stop()
        rundir.unlock()
    _print_summary(summary, f"{plan.suite.name} / {prover.name}", out, args.json)
    err.print(f"run directory: {rundir.path}", markup=False)
    return EXIT_INFRA if summary.by_status.get(Status.ERROR.value) else EXIT_OK


def _print_summary(summary: Summary, title: str, out: Console, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.model_dump(mode="json"), indent=2))
        return
    for table in summary_tables(summary, title):
        out.print(table)


def cmd_report(args: argparse.Namespace, out: Console) -> int:
    """``provebench report RUNDIR``: the summary recomputed from the journal (or the HTML report)."""
    if args.out and not args.html:
        raise UserError("--out goes with --html")
    if args.html:
        from provebench.cli_board import write_report

        return write_report(args.rundir, args.out, out)
    rundir = RunDir.existing(Path(args.rundir))
    config = rundir.config()
    summary = summarize_run(rundir, config)
    manifest = rundir.read_manifest()
    suite = str(manifest["suite"]["name"])
    _print_summary(summary, f"{suite} / {manifest['prover'].get('name', '?')}", out, args.json)
    return EXIT_OK
