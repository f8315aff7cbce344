"""``provebench run``: arguments, live progress, the summary at the end."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from provebench.checking.contexts import plan_contexts
from provebench.cli import images
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK
from provebench.cli.report import print_summary
from provebench.core.errors import RunStopped, UserError
from provebench.core.journal import AttemptRecord
from provebench.core.model import Status
from provebench.core.settings import Settings, memory_budget_mb, reply_cache_folder
from provebench.provers.cached import with_reply_cache
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.registry import make_prover
from provebench.runs.config import RESUMABLE_OVERRIDES, RunConfig, build_config, read_config_file
from provebench.runs.run import RunDir, RunHooks, RunPlan, execute, plan_run, refuse_replayed


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user gave, in config terms."""
    flags: dict[str, Any] = {}
    keys: tuple[str, ...] = ("suite", "n", "repair_rounds", "prover_connections", "timeout_s", "infra_retries")
    keys += ("categories", "protocol", "limit", "seed")
    for key in keys:
        if getattr(args, key) is not None:
            flags[key] = getattr(args, key)
    if args.checkers is not None:
        flags["checkers"] = args.checkers
    if args.problems is not None:
        flags["problems"] = args.problems
    if args.problems_file is not None:
        flags["problems_file"] = str(Path(args.problems_file).resolve())
    if args.out is not None:
        flags["out"] = args.out
    if args.k is not None:
        try:
            flags["k"] = [int(x) for x in args.k.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"-k takes comma-separated integers, not {args.k!r}") from None
    prover: dict[str, Any] = {}
    if args.prover is not None:
        prover["name"] = args.prover
    for key in ("model", "base_url", "api_key_env", "api", "prompt"):
        if getattr(args, key) is not None:
            prover[key] = getattr(args, key)
    if args.answers is not None:
        prover["answers"] = str(Path(args.answers).resolve())
    if prover:
        flags["prover"] = prover
    return flags


def _resolve_config(args: argparse.Namespace) -> tuple[RunConfig, RunDir | None]:
    overrides = _overrides(args)
    if args.resume:
        rundir = RunDir.existing(Path(args.resume))
        if rundir.manifest_path.exists():  # said before the config names a prover that cannot be made
            refuse_replayed(rundir.path, rundir.read_manifest())
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


class LiveProgress:
    """A rich progress bar over samples (or ``unit``), with attempt counts by verdict and attempts per second."""

    LINE_EVERY_S = 10.0  # without a terminal: one status line this often

    def __init__(self, console: Console, enabled: bool, unit: str = "samples") -> None:
        self._unit = unit
        self._console = console
        self._enabled = enabled
        self._bar = enabled and console.is_terminal
        self._total = self._completed = 0
        self._last_line = 0.0
        self._progress: Progress | None = None
        self._task: Any = None
        self._counts: dict[str, Any] = {"attempts": 0, "passed": 0, "failed": 0, "errors": 0}
        self._counts |= {"cached": "", "window": ""}  # text shown once there is any
        self._cached = 0
        self._requests: AdaptiveLimiter | None = None
        self._t0 = time.monotonic()

    def watch(self, requests: AdaptiveLimiter) -> None:
        """Show the window of prover requests in flight once the endpoint has throttled any (a 429)."""
        self._requests = requests

    def started(self, total: int, pending: int, done: list[AttemptRecord]) -> None:
        """Show the bar: ``total`` units, ``pending`` of them to go, ``done`` the attempts already journalled."""
        self._t0 = time.monotonic()
        if done:
            self._console.print(f"[dim]resuming: {len(done)} attempts journalled, {pending} samples to go[/]")
        self._total, self._completed = total, total - pending
        self._last_line = self._t0
        if not self._bar:
            return
        self._progress = Progress(
            TextColumn(self._unit),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[attempts]} attempts: [green]{task.fields[passed]} pass[/] "
                "[red]{task.fields[failed]} fail[/] [magenta]{task.fields[errors]} error[/] "
                "{task.fields[rate]:.1f}/s{task.fields[cached]}{task.fields[window]}"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._progress.start()
        self._task = self._progress.add_task("run", total=total, completed=total - pending, rate=0.0, **self._counts)

    def on_record(self, record: AttemptRecord, chain_done: bool) -> None:
        """Count one journalled attempt (and a unit, when ``chain_done``)."""
        c = self._counts
        c["attempts"] += 1
        if record.prover.cached:
            self._cached += 1
            c["cached"] = f", {self._cached} from the cache"
        if self._requests is not None and self._requests.throttles:
            c["window"] = f", requests in flight {self._requests.describe()} ({self._requests.throttles} throttled)"
        if record.verdict.status is Status.PASS:
            c["passed"] += 1
        elif record.verdict.status is Status.ERROR:
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
                f"{self._unit} {self._completed}/{self._total}, {c['attempts']} attempts: {c['passed']} pass, "
                f"{c['failed']} fail, {c['errors']} error, {rate:.1f}/s{c['cached']}{c['window']}",
                markup=False,
            )

    def stop(self) -> None:
        """Take the bar down (idempotent)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench run``."""
    config, rundir = _resolve_config(args)
    if config.checkers is not None:
        settings = settings.model_copy(update={"checkers": config.checkers})
    plan: RunPlan = plan_run(config, settings)
    prover = make_prover(config.prover.name, config.prover.settings())
    if config.repair_rounds and not prover.can_repair:
        raise UserError(f"the {prover.name} prover cannot use repair rounds; set repair_rounds to 0")
    if args.dry_run:  # before the prover opens anything (a dry run needs no API key)
        return _print_plan(config, plan, settings)
    if not args.no_cache:
        prover = with_reply_cache(prover, reply_cache_folder(settings))
    prover.prepare(plan.suite.problems)
    try:
        prover.preflight()  # before any checker loads: a dead endpoint is said in seconds
    except RunStopped as exc:
        err.print(f"provebench: run not started: {exc}", markup=False)
        return EXIT_INFRA
    resume = rundir is not None
    if rundir is not None:
        rundir.lock()
        images.ensure_images(settings, {p.checker_image for p in plan.problems})
    else:
        new_path = RunDir.new_path(config.out, plan.suite.name, prover.name)
        images.ensure_images(settings, {p.checker_image for p in plan.problems})  # before the run directory exists
        rundir = RunDir.create(new_path, plan.suite.name, prover.name)
        rundir.lock()
    live = LiveProgress(err, enabled=not args.no_progress)
    hooks = RunHooks(
        status=lambda text: err.print(f"[dim]{text}...[/]"),
        started=live.started,
        on_record=live.on_record,
        requests=live.watch,
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
    print_summary(summary, f"{plan.suite.name} / {prover.name}", args.json)
    err.print(f"run directory: {rundir.path}", markup=False)
    return EXIT_INFRA if summary.by_status.get(Status.ERROR.value) else EXIT_OK


def _print_plan(config: RunConfig, plan: RunPlan, settings: Settings) -> int:
    """``run --dry-run``: the resolved config and what the run would do; nothing starts."""
    out.print("[bold]config[/] (resolved)")
    out.print(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), sort_keys=False).rstrip(), markup=False)
    by_category: dict[str, int] = {}
    for p in plan.problems:
        by_category[p.category] = by_category.get(p.category, 0) + 1
    chosen = f"{len(plan.problems)} of {len(plan.suite.problems)} problems"
    if config.limit is not None:
        chosen += f" (a random {config.limit}, seed {config.seed})"
    out.print(f"[bold]plan[/]: suite {plan.suite.name} ({plan.suite.content_hash[:19]}), {chosen}", highlight=False)
    out.print("  by category: " + ", ".join(f"{c} {n}" for c, n in sorted(by_category.items())), markup=False)
    out.print(f"  {config.n} sample(s) each: {len(plan.problems) * config.n} attempts", markup=False)
    contexts = plan_contexts(settings, plan.problems)
    if settings.server is not None:
        out.print(f"  checked through the service at {settings.server} (no checker starts here)", markup=False)
    else:
        total = sum(c.memory_mb for c in contexts)
        out.print(
            f"  {len(contexts)} context(s) to load, up to {settings.checkers} checker(s) each "
            f"(as many as fit {memory_budget_mb(settings)} MB); the first reserves {contexts[0].memory_mb} MB, "
            f"all {total} MB (the least recently used make room)",
            markup=False,
        )
        for c in contexts[:10]:
            lines = c.key[2].count("\n")
            out.print(
                f"    {c.key[1]}: {c.problems} problems, {c.checkers} checker(s), {c.memory_mb} MB, "
                f"context of {lines} lines",
                markup=False,
            )
        if len(contexts) > 10:
            out.print(f"    ... and {len(contexts) - 10} more", markup=False)
    return EXIT_OK
