"""``provebench serve``: the checker service on this machine's checkers, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
from pathlib import Path

from provebench.checking.engine import Engine
from provebench.cli.consoles import dim
from provebench.cli.exit_codes import EXIT_OK
from provebench.core.errors import UserError
from provebench.core.model import System
from provebench.core.names import SYSTEMS
from provebench.core.settings import Settings
from provebench.service.server import ServeOptions, serve
from provebench.service.state import ServiceLimits


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGTERM or Ctrl-C; exit 0 once every checker is stopped."""
    if not 0 < args.port < 65536:
        raise UserError("--port must be between 1 and 65535")
    options = ServeOptions(
        host=args.host,
        port=args.port,
        token_env=args.token_env,
        warm=args.warm,
        suites=[Path(folder) for folder in args.suite],
        drain_s=args.drain_seconds,
        limits=ServiceLimits(
            max_body_bytes=int(args.max_body_mb * (1 << 20)),
            max_batch=args.max_batch,
            max_queue=args.max_queue,
            max_sessions=args.max_sessions,
            session_idle_s=args.session_idle_seconds,
        ),
        systems=tuple(System(s) for s in (args.system or SYSTEMS)),
    )
    try:
        serve(Engine(settings), options, dim)
    except KeyboardInterrupt:
        pass
    dim("provebench: the service stopped; every checker is stopped")
    return EXIT_OK
