"""``provebench serve``: the checker service, and ``--server`` for commands that check through one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provebench.cli.options import COUNT, PORT
from provebench.core.bounded import bounded_float, finite_seconds
from provebench.core.names import SYSTEMS

if TYPE_CHECKING:  # the parser is built before anything heavy is imported
    from rich.console import Console


def cmd_serve(args: argparse.Namespace, settings: Any, err: Console) -> int:
    """Serve until SIGTERM or Ctrl-C; exit 0 once every checker is stopped."""
    from provebench.checking.engine import Engine
    from provebench.core.errors import UserError
    from provebench.core.model import System
    from provebench.service.server import ServeOptions, serve
    from provebench.service.state import ServiceLimits

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


def add_serve_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``serve`` subcommand."""
    s = sub.add_parser(
        "serve",
        parents=[common],
        help="run warm checkers as a long-lived service (provebench's /v1 API and Kimina Lean Server's)",
        description="Serve checks over HTTP on warm checkers that outlive any one command: POST /v1/check "
        "(one proof or a batch, whole or streamed), GET /v1/health, GET /v1/checkers, GET /metrics (Prometheus), "
        "and Kimina Lean Server's POST /verify and /api/check for Lean. The OpenAPI schema is at /openapi.json. "
        "Other commands use it with --server URL (or PROVEBENCH_SERVER).",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=PORT, default=8000, help="port (default 8000)")
    s.add_argument(
        "--token-env",
        metavar="VAR",
        help="require 'Authorization: Bearer TOKEN' with TOKEN read from this environment variable "
        "(needed for any host other than loopback)",
    )
    s.add_argument(
        "--warm",
        nargs="+",
        default=[],
        metavar="SUITE[:PROBLEM]",
        help="load these contexts before taking requests (a suite's first problem's, or the problem's)",
    )
    s.add_argument(
        "--suite",
        action="append",
        default=[],
        metavar="PATH",
        help="also serve the suite in this folder, by its name (repeatable); besides these, the service "
        "serves only the bundled suites and those in the user's suite folder, and clients name suites by name",
    )
    s.add_argument(
        "--system",
        action="append",
        choices=SYSTEMS,
        help="proof systems to serve (repeatable; default both); Kimina's API needs lean4",
    )
    s.add_argument(
        "--drain-seconds",
        type=finite_seconds,
        default=10.0,
        help="on SIGTERM or Ctrl-C, how long in-flight checks may finish before they are cancelled (default 10)",
    )
    s.add_argument("--max-batch", type=COUNT, default=10_000, help="most proofs in one request (default 10000)")
    s.add_argument(
        "--max-queue", type=COUNT, default=20_000, help="most proofs waiting over all requests; more get 429"
    )
    s.add_argument(
        "--max-body-mb",
        type=bounded_float(0, 1024, "a size in MB", low_open=True),
        default=64.0,
        help="largest request body in MB (default 64)",
    )
