"""``provebench mcp``: the proof tools over the Model Context Protocol on stdio, with the official SDK.

stdout is the protocol (the SDK points fd 1 at stderr while it serves, so nothing else reaches it); notes
and logs go to stderr. When the client goes (stdin closes) every session ends and every checker stops.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import BaseModel, ValidationError

from provebench import __version__
from provebench.checking.engine import Engine, starting_line
from provebench.checking.proof_sessions import ProofSessions
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.inputs import first_error
from provebench.core.settings import Settings
from provebench.integrations.mcp.tools import ProofTools, one_line

INSTRUCTIONS = """Prove theorems against provebench's pinned, sandboxed checkers (HOL Light: s2n-bignum and more).
list_problems(suite) shows what to prove. open_session(suite, problem) gives a session and its goal;
apply_tactic(session, tactic) applies one tactic to the first goal (a tactic that fails changes nothing),
undo takes the last one back, goals shows them, search finds theorems by name or term pattern. Once no goal
is left, the session's `script` is the whole proof: check_proof(suite, problem, proof) gives the verdict, the
only one there is (a session is advice). Close sessions you are done with. Suites here: {suites}."""


class ProofServer(MCPServer[Any]):
    """The SDK's server, every refusal a tool error of one line (an argument's, the tool's, or the checker's)."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """The SDK's call, its errors said in one line."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                where, msg = first_error(cause)
                said = f"argument {where!r}: {msg}" if where else msg
            elif isinstance(cause, UserError):
                said = str(cause)
            elif isinstance(cause, VerifierUnavailable):
                said = f"checker unavailable: {cause}"
            else:
                raise
            raise ToolError(one_line(f"Error executing tool {name}: {said}")) from cause


def _in_a_thread(tool: Callable[..., BaseModel]) -> Callable[..., Awaitable[BaseModel]]:
    """``tool`` run in a worker thread, as the SDK runs a plain function, but left to end there once its client is gone.

    The checkers are then stopped under it, rather than after it.
    """

    @functools.wraps(tool)  # the SDK reads the tool's signature and description through it
    async def call(**arguments: Any) -> BaseModel:
        return await anyio.to_thread.run_sync(functools.partial(tool, **arguments), abandon_on_cancel=True)

    return call


def build_server(tools: ProofTools) -> ProofServer:
    """The MCP server of these tools."""
    server = ProofServer(
        "provebench",
        title="provebench proof checkers",
        instructions=INSTRUCTIONS.format(suites=", ".join(tools.suite_names()) or "none"),
        version=__version__,
        log_level="WARNING",  # stderr stays for provebench's own notes; a refused call is the client's to read
    )
    for tool in tools.tools():
        server.add_tool(_in_a_thread(tool), structured_output=True)
    return server


def serve_stdio(settings: Settings, limit: int, idle_s: float, say: Callable[[str], None]) -> None:
    """Serve on stdin/stdout until the client closes stdin; then every session ends and every checker stops."""
    with Engine(settings, on_start=lambda system: say(starting_line(settings, system))) as engine:
        sessions = ProofSessions(engine, limit, idle_s)
        tools = ProofTools(engine, sessions, settings.suites_dir)
        server = build_server(tools)
        say(
            f"provebench mcp: serving {len(tools.tools())} tools on stdio (pid {os.getpid()}); checkers start on demand"
        )
        try:
            anyio.run(server.run_stdio_async)
        finally:
            sessions.close_all()
