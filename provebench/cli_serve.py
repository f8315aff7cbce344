"""``provebench serve``: the checker service, and ``--server`` for commands that check through one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

SYSTEMS = ("hol-light", "lean4")


def cmd_serve(args: argparse.Namespace, settings: Any, err: Console) -> int:
    """Serve until SIGTERM or Ctrl-C; exit 0 once every checker is stopped."""
    from provebench.engine import Engine
    from provebench.errors import UserError
    from provebench.model import System
    from provebench.service.server import ServeOptions, serve
    from provebench.service.state import ServiceLimits

    if not 0 < args.port < 65536:
        raise UserError("--port must be between 1 and 65535")
    if args.max_batch < 1 or args.max_queue < 1 or args.max_body_mb <= 0:
        raise UserError("--max-batch, --max-queue and --max-body-mb must be positive")
    options = ServeOptions(
        host=args.host,
        port=args.port,
        token_env=args.token_env,
        warm=args.warm,
        suites=[Path(folder) for folder in args.suite],
        drain_s=args.drain_seconds,
        limits=ServiceLimits(
            max_body_bytes=int(args.max_body_mb * (1 << 20)), max_batch=args.max_batch, max_queue=args.max_queue
        ),
        systems=tuple(System(s) for s in (args.system or SYSTEMS)),
    )

    def progress(line: str) -> None:
        err.print(line, style="dim", markup=False)

    try:
        serve(Engine(settings), options, progress)
    except KeyboardInterrupt:
        pass
    err.print("provebench: the service stopped; every checker is stopped", style="dim", markup=False)
    return 0
