"""The grammar of ``provebench mcp`` (part of ``args.py``'s): importing nothing heavy."""

from __future__ import annotations

import argparse
from typing import Any

from provebench.core.bounded import bounded_int, finite_seconds


def add_mcp_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``mcp`` subcommand."""
    m = sub.add_parser(
        "mcp",
        parents=[common],
        help="serve proof tools to MCP clients over stdio (coding assistants, agent frameworks)",
        description="Serve provebench's proof tools over the Model Context Protocol on stdin/stdout, for an MCP "
        "client to start as a subprocess: list_problems, open_session, apply_tactic, undo, goals, search, "
        "check_proof and close_session, on suites and problems named by name. Checkers start at the first call "
        "that needs one and stop when the client closes the connection. Needs pip install 'provebench[mcp]'.",
    )
    m.add_argument(
        "--sessions",
        type=bounded_int(1, 1000, "a number of sessions"),
        default=16,
        help="most proof sessions open at once (default 16)",
    )
    m.add_argument(
        "--idle-seconds",
        type=finite_seconds,
        default=600.0,
        help="a session unused this long is closed (default 600)",
    )
