"""The ``provebench`` command: parse, then hand over to the function of the command (imported only then).

Exit codes: 0 PASS (or success), 1 a proof verdict other than PASS,
2 bad usage or bad input, 3 infrastructure error (checker or prover unavailable),
130 interrupted (a run's journal is kept; resume it).

Start-up costs what the command needs: ``--help`` imports only the grammar, and
``check --server`` only the service's standard-library client. What each command imports is in
``COMMANDS`` below, one table: nothing else here imports a command's module.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from provebench.cli.args import build_parser
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from provebench.core.errors import UserError, VerifierUnavailable

# Each command's function, "module:function", imported when the command runs (as checking/registry.py loads
# checkers). Each takes the parsed arguments and the settings and returns the exit code.
COMMANDS: dict[str, str] = {
    "check": "provebench.cli.check:cmd_check",
    "images": "provebench.cli.images:cmd_images",
    "suites": "provebench.cli.suites:cmd_suites",
    "run": "provebench.cli.run:cmd_run",
    "report": "provebench.cli.report:cmd_report",
    "recheck": "provebench.cli.recheck:cmd_recheck",
    "import-inspect": "provebench.cli.import_inspect:cmd_import_inspect",
    "provers": "provebench.cli.provers:cmd_provers",
    "view": "provebench.cli.report:cmd_view",
    "submit": "provebench.cli.board:cmd_submit",
    "leaderboard": "provebench.cli.board:cmd_leaderboard",
    "serve": "provebench.cli.serve:cmd_serve",
    "mcp": "provebench.cli.mcp_serve:cmd_mcp",
}
# The settings of a command that runs here (PROVEBENCH_* and its flags), handed to its function.
SETTINGS = "provebench.cli.command_settings:start"
# ``check`` of one proof through a service: the arguments alone, no settings model and no checker code.
REMOTE_CHECK = "provebench.cli.remote:cmd_check"


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


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
            return int(_load(REMOTE_CHECK)(args))
        settings = _load(SETTINGS)(args)
        return int(_load(COMMANDS[args.command])(args, settings))
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


if __name__ == "__main__":
    sys.exit(main())
