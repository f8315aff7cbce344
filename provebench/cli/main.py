"""The ``provebench`` command: parse, then hand over to the module of the command (imported only then).

Exit codes: 0 PASS (or success), 1 a proof verdict other than PASS,
2 bad usage or bad input, 3 infrastructure error (checker or prover unavailable),
130 interrupted (a run's journal is kept; resume it).

Start-up costs what the command needs: ``--help`` imports only the grammar, and
``check --server`` only the service's standard-library client.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provebench.cli.args import build_parser
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from provebench.core.errors import UserError, VerifierUnavailable

if TYPE_CHECKING:
    from provebench.core.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    from provebench.core.inputs import first_error
    from provebench.core.settings import Backend, CheckerBuild, Executor, Settings

    try:
        settings = Settings()
    except ValidationError as exc:  # a PROVEBENCH_* variable out of bounds: name it, in one line
        where, msg = first_error(exc)
        raise UserError(f"PROVEBENCH_{where.upper()}: {msg}") from None
    update: dict[str, Any] = {}
    if args.backend:
        update["backend"] = Backend(args.backend)
    if args.checkers is not None:  # bounded by the grammar (cli_options), as the settings bound it
        update["checkers"] = args.checkers
    if args.memory_mb is not None:
        update["memory_mb"] = args.memory_mb
    if args.checker is not None:
        update["checker_build"] = CheckerBuild(args.checker)
    if args.image_revision is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{7,40}", args.image_revision):
            raise UserError("--image-revision wants a commit hash (at least 7 hex digits)")
        update["image_revision"] = args.image_revision.lower()
    if getattr(args, "apt_ignore_valid_until", False):
        update["apt_ignore_valid_until"] = True
    if getattr(args, "server", None) is not None:
        from provebench.checking.service_client import server_url

        update["server"] = server_url(args.server)
    elif settings.server:
        from provebench.checking.service_client import server_url

        update["server"] = server_url(settings.server)
    else:
        update["server"] = None  # PROVEBENCH_SERVER set empty: no service, as when unset
    if getattr(args, "executor", None) is not None:
        update["executor"] = Executor(args.executor)
    if getattr(args, "ray_address", None) is not None:
        if (update.get("executor") or settings.executor) is not Executor.RAY:
            raise UserError("--ray-address goes with --executor ray")
        update["ray_address"] = args.ray_address
    if args.command == "serve":
        update["server"] = None  # a service checks on its own checkers, whatever PROVEBENCH_SERVER says
    return settings.model_copy(update=update)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    with ExitStack() as restore:
        if threading.current_thread() is threading.main_thread():
            # `kill` and a closed terminal stop provebench as Ctrl-C does, so that its checker containers
            # are removed on the way out instead of computing on after it.
            for sig in (signal.SIGTERM, signal.SIGHUP):
                restore.callback(signal.signal, sig, signal.signal(sig, _stop))
        return _main(args)


def _checks_remotely(args: argparse.Namespace) -> bool:
    """``check`` of one proof through a service: the quick path, with no settings model and no checker code."""
    server = getattr(args, "server", None) or os.environ.get("PROVEBENCH_SERVER")
    if args.command != "check" or not server or args.batch:
        return False
    # A suite folder is loaded here and named to the service by its name, with its problem's hash (as
    # ``run --server`` names it): the service checks only suites it was started with, by name.
    return not args.suite or not (os.sep in args.suite or Path(args.suite).is_dir())


def _main(args: argparse.Namespace) -> int:
    try:
        if _checks_remotely(args):
            from provebench.cli import remote as cli_remote

            return cli_remote.cmd_check(args)
        return _dispatch(args)
    except UserError as exc:
        _say(f"provebench: error: {exc}")
        return EXIT_USAGE
    except VerifierUnavailable as exc:
        _say(f"provebench: checker unavailable: {exc}")
        return EXIT_INFRA
    except KeyboardInterrupt:
        _say("provebench: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `provebench ... | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    from provebench.cli import check as cli_check

    notes = logging.getLogger("provebench")
    if not any(isinstance(h, cli_check.DimLines) for h in notes.handlers):
        notes.addHandler(cli_check.DimLines())
        notes.setLevel(logging.INFO)
    settings = _settings(args)
    out, err, ensure = cli_check.out, cli_check.err, cli_check.ensure_images
    if args.command in ("run", "report"):
        from provebench.cli import run as cli_run

        if args.command == "run":
            return cli_run.cmd_run(args, settings, out, err, ensure)
        return cli_run.cmd_report(args, out)
    if args.command in ("submit", "leaderboard", "view"):
        from provebench.cli import board as cli_board

        if args.command == "submit":
            return cli_board.cmd_submit(args, settings, out, err)
        if args.command == "leaderboard":
            return cli_board.cmd_leaderboard(args, settings, out, err, ensure)
        return cli_board.serve_report(args.rundir, args.port, err)
    if args.command == "serve":
        from provebench.cli import serve as cli_serve

        return cli_serve.cmd_serve(args, settings, err)
    handler: Any = {"check": cli_check.cmd_check, "images": cli_check.cmd_images, "suites": cli_check.cmd_suites}
    return int(handler[args.command](args, settings))


if __name__ == "__main__":
    sys.exit(main())
