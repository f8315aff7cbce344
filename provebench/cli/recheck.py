"""``provebench recheck``: a finished run's attempts checked again with today's checkers, and what changed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from provebench.cli import images
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK, EXIT_VERDICT
from provebench.cli.run import LiveProgress
from provebench.core.errors import RunStopped
from provebench.core.model import Status
from provebench.core.settings import Settings
from provebench.runs.recheck import Rechecked, read_source, recheck
from provebench.runs.run import RunHooks
from provebench.runs.stats import Summary


def cmd_recheck(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench recheck RUNDIR --out NEWDIR``."""
    source = read_source(Path(args.rundir), settings)
    config = source.plan.config
    if getattr(args, "checkers", None) is None and config.checkers is not None:
        settings = settings.model_copy(update={"checkers": config.checkers})  # the run's, unless said otherwise
    if source.suite_changed:
        err.print(
            f"note: suite {source.plan.suite.name} changed since the run ({source.suite_changed}): "
            "its statements as they are now are checked",
            markup=False,
        )
    images.ensure_images(settings, {p.checker_image for p in source.plan.problems})
    rechecked, code = with_progress(
        args, len(source.attempts), "recheck", lambda h: recheck(source, Path(args.out), settings, h)
    )
    if rechecked is None:
        return code
    if args.json:
        print(json.dumps(_as_json(rechecked), indent=2))
    else:
        _print(rechecked, source.rundir.path)
    if rechecked.after.by_status.get(Status.ERROR.value):
        return EXIT_INFRA
    return EXIT_VERDICT if rechecked.changes else EXIT_OK


T = TypeVar("T")


def with_progress(
    args: argparse.Namespace, attempts: int, what: str, do: Callable[[RunHooks], T]
) -> tuple[T | None, int]:
    """Check ``attempts`` attempts again (``do``) with a progress bar: the result, or None and the exit code.

    Interrupted or stopped, the new run directory (``--out``) is partial: the user is told to delete it.
    """
    live = LiveProgress(err, enabled=not args.no_progress, unit="attempts")
    hooks = RunHooks(
        status=lambda text: err.print(f"[dim]{text}...[/]"),
        started=lambda _total, _pending, _done: live.started(attempts, attempts, []),
        on_record=live.on_record,
    )
    try:
        return do(hooks), EXIT_OK
    except KeyboardInterrupt:
        err.print(f"provebench: interrupted; {args.out} holds a partial {what}: delete it, run again", markup=False)
        return None, EXIT_INTERRUPTED
    except RunStopped as exc:
        err.print(f"provebench: {what} stopped: {exc}", markup=False)
        return None, EXIT_INFRA
    finally:
        live.stop()


def _pass_at_k(before: Summary, after: Summary) -> str:
    return ", ".join(f"pass@{k} {100 * before.pass_at_k[k]:.1f}% -> {100 * v:.1f}%" for k, v in after.pass_at_k.items())


def _print(rechecked: Rechecked, source: Path) -> None:
    checkers = ", ".join(c.recipe or c.image for c in rechecked.rundir.read_manifest().checkers)
    say = out.print
    say(f"rechecked {rechecked.attempts} attempts of {source} on {checkers}", markup=False, highlight=False)
    changes = rechecked.changes
    if changes:
        say(f"{len(changes)} verdict(s) changed (problem, sample, round: old -> new):", markup=False)
        for c in changes:
            say(f"  {c.line()}", markup=False, highlight=False)
    else:
        say("no verdict changed", markup=False)
    before, after = rechecked.before, rechecked.after
    say(f"solved {before.solved}/{before.problems} -> {after.solved}/{after.problems}", markup=False)
    say(_pass_at_k(before, after), markup=False, highlight=False)
    errors = after.by_status.get(Status.ERROR.value)
    if errors:
        say(f"{errors} check(s) ended in ERROR (no verdict): recheck again later", markup=False)
    err.print(f"run directory: {rechecked.rundir.path}", markup=False)


def _as_json(rechecked: Rechecked) -> dict[str, Any]:
    def verdict(v: Any) -> dict[str, str]:
        return {"status": v.status.value, "reason": v.reason.value}

    return {
        "rundir": str(rechecked.rundir.path),
        "attempts": rechecked.attempts,
        "changes": [
            {"problem": c.problem, "sample": c.sample, "round": c.round, "old": verdict(c.old), "new": verdict(c.new)}
            for c in rechecked.changes
        ],
        "before": rechecked.before.model_dump(mode="json"),
        "after": rechecked.after.model_dump(mode="json"),
    }
