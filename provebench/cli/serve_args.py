"""The grammar of ``provebench serve`` (part of ``args.py``'s): importing nothing heavy."""

from __future__ import annotations

import argparse
from typing import Any

from provebench.cli.options import COUNT, PORT
from provebench.core.bounded import bounded_float, bounded_int, finite_seconds
from provebench.core.names import SYSTEMS


def add_serve_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``serve`` subcommand."""
    s = sub.add_parser(
        "serve",
        parents=[common],
        help="run warm checkers as a long-lived service (provebench's /v1 API and Kimina Lean Server's)",
        description="Serve checks over HTTP on warm checkers that outlive any one command: POST /v1/check "
        "(one proof or a batch, whole or streamed), proof sessions under /v1/sessions, GET /v1/health, "
        "GET /v1/checkers, GET /metrics (Prometheus), "
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
        "--max-sessions",
        type=bounded_int(1, 1000, "a number of sessions from 1 to 1000"),
        default=16,
        help="most proof sessions open at once over all clients (default 16); more get 429",
    )
    s.add_argument(
        "--session-idle-seconds",
        type=finite_seconds,
        default=600.0,
        help="close a proof session nobody used for this long (default 600)",
    )
    s.add_argument(
        "--max-body-mb",
        type=bounded_float(0, 1024, "a size in MB", low_open=True),
        default=64.0,
        help="largest request body in MB (default 64)",
    )
