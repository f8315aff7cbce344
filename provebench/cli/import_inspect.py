"""``provebench import-inspect``: an Inspect log of provebench/suite as a run directory, every proof checked again."""

from __future__ import annotations

import argparse
from pathlib import Path

from provebench.cli import images
from provebench.cli.consoles import out
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_OK, EXIT_VERDICT
from provebench.cli.recheck import with_progress
from provebench.core.errors import UserError
from provebench.core.model import Status
from provebench.core.settings import Settings

try:  # the optional extra: without it provebench works as before, and this command says what to install
    from provebench.integrations.inspect.log_import import import_log, plan_import, read_inspect_log
except ModuleNotFoundError as missing:
    if not (missing.name or "").startswith("inspect_ai"):
        raise
    INSPECT_MISSING: str | None = "import-inspect needs Inspect: pip install 'provebench[inspect]'"
else:
    INSPECT_MISSING = None


def cmd_import_inspect(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench import-inspect LOG --out RUNDIR``."""
    if INSPECT_MISSING is not None:
        raise UserError(INSPECT_MISSING)
    log = read_inspect_log(Path(args.log))
    if getattr(args, "checkers", None) is None and log.options.checkers is not None:
        settings = settings.model_copy(update={"checkers": log.options.checkers})
    planned = plan_import(log, Path(args.out), settings)
    images.ensure_images(settings, {p.checker_image for p in planned.plan.problems})
    imported, code = with_progress(args, len(planned.work), "import", lambda h: import_log(planned, settings, h))
    if imported is None:
        return code
    s = imported.summary
    say = out.print
    say(
        f"imported {imported.attempts} attempts of {log.model} from {log.path} into {imported.rundir.path}",
        markup=False,
        highlight=False,
    )
    say(f"solved {s.solved}/{s.problems}; " + ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in s.pass_at_k.items()))
    if imported.differs:
        say(f"{len(imported.differs)} sample(s) where provebench's verdict is not the log's score:", markup=False)
        for line in imported.differs:
            say(f"  {line}", markup=False, highlight=False)
    if s.by_status.get(Status.ERROR.value):
        return EXIT_INFRA
    return EXIT_VERDICT if imported.differs else EXIT_OK
