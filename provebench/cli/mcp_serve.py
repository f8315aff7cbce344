"""``provebench mcp``: the proof tools over MCP on stdio, until the client closes the connection."""

from __future__ import annotations

import argparse
import logging

from provebench.cli.consoles import dim
from provebench.cli.exit_codes import EXIT_OK
from provebench.core.errors import UserError
from provebench.core.settings import Settings

try:  # the optional extra: without it provebench works as before, and this command says what to install
    from provebench.integrations.mcp.server import serve_stdio
except ModuleNotFoundError as missing:
    if not (missing.name or "").startswith("mcp"):
        raise
    MCP_MISSING: str | None = "mcp needs the MCP SDK: pip install 'provebench[mcp]'"
else:
    MCP_MISSING = None


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until stdin closes (or SIGTERM, Ctrl-C); exit 0 once every checker is stopped."""
    if MCP_MISSING is not None:
        raise UserError(MCP_MISSING)
    # The SDK logs through the root logger, on stderr; provebench's notes have their own handler (dim lines).
    logging.getLogger("provebench").propagate = False
    try:
        serve_stdio(settings, args.sessions, args.idle_seconds, dim)
    except KeyboardInterrupt:
        pass
    dim("provebench mcp: the connection is closed; every checker is stopped")
    return EXIT_OK
