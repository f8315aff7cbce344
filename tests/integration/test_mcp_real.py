"""`provebench mcp` on real HOL Light, driven by the MCP SDK's own client over stdio, as an MCP client starts it.

One server process serves the module's tests (one warm checker): proof sessions on hol-light-core (goals
split, undo, search, the steps' script checked by check_proof), and every bad input a tool error of one
line after which the server serves on. When the client closes the connection, the server's checkers stop.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TextIO

import docker
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp_types import CallToolResult, TextContent

from provebench.core.model import Reason, Status

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"list_problems", "open_session", "apply_tactic", "undo", "goals", "search", "check_proof", "close_session"}


class McpClient:
    """The SDK's ClientSession over stdio_client to one server process, its event loop in a thread of its own."""

    def __init__(self, params: StdioServerParameters, errlog: TextIO) -> None:
        self._params, self._errlog = params, errlog
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        self._ready.result(timeout=60)

    async def _serve(self) -> None:
        try:
            async with stdio_client(self._params, errlog=self._errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    self.session, self._loop, self._done = session, asyncio.get_running_loop(), asyncio.Event()
                    self._ready.set_result(None)
                    await self._done.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def tools(self) -> list[Any]:
        return list(asyncio.run_coroutine_threadsafe(self.session.list_tools(), self._loop).result(60).tools)

    def call(self, name: str, **arguments: Any) -> CallToolResult:
        return asyncio.run_coroutine_threadsafe(self.session.call_tool(name, arguments), self._loop).result(600)

    def close(self) -> None:
        """Close the connection (the server's stdin) and wait for the transport to end."""
        self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(timeout=60)


def _server_pid(log: Path) -> int:
    found = re.search(r"serving \d+ tools on stdio \(pid (\d+)\)", log.read_text())
    assert found, log.read_text()
    return int(found.group(1))


def _checkers_of(pid: int) -> list[Any]:
    labels = ["org.provebench.role=checker", f"org.provebench.owner-pid={pid}"]
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpClient]:
    log = tmp_path_factory.mktemp("mcp") / "server.log"
    env = {k: v for k, v in os.environ.items() if k.startswith(("PROVEBENCH_", "DOCKER_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "PROVEBENCH_CHECKERS": "1",
        "PROVEBENCH_MEMORY_MB": "2048",
        "PROVEBENCH_APT_IGNORE_VALID_UNTIL": "1",
    }
    params = StdioServerParameters(command=sys.executable, args=["-m", "provebench.cli", "mcp"], env=env, cwd=ROOT)
    with log.open("w") as errlog:
        c = McpClient(params, errlog)
        try:
            yield c
        finally:
            pid = _server_pid(log)
            checked = c.call("check_proof", suite="hol-light-core", problem="add_comm", proof="ARITH_TAC")
            assert _ok(checked)["passed"] and _checkers_of(pid), "the server's checker is running while it serves"
            c.close()
            # Stopped by the server itself, on its stdin's end (the SDK would kill it after 2 s otherwise).
            deadline = time.monotonic() + 60
            while _checkers_of(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _checkers_of(pid), "the server's checkers outlived the connection"
            assert "every checker is stopped" in log.read_text()


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


def _refused(result: CallToolResult, *fragments: str) -> str:
    """The one line of a tool error, which must hold each fragment."""
    assert result.is_error and len(result.content) == 1, result
    block = result.content[0]
    assert isinstance(block, TextContent) and "\n" not in block.text, block
    for fragment in fragments:
        assert fragment in block.text, block.text
    return block.text


def test_the_server_offers_the_proof_tools(client: McpClient) -> None:
    tools = {t.name: t for t in client.tools()}
    assert set(tools) == TOOLS
    assert all(t.output_schema is not None for t in tools.values())  # structured JSON out


def test_a_session_splits_goals_undoes_searches_and_its_script_passes_check_proof(client: McpClient) -> None:
    opened = _ok(client.call("open_session", suite="hol-light-core", problem="de_morgan_and"))
    sid = opened["session"]
    assert (opened["suite"], opened["problem"], opened["steps"], opened["solved"]) == (
        "hol-light-core",
        "de_morgan_and",
        0,
        False,
    )
    assert [g["goal"] for g in opened["goals"]] == ["forall p q. ~(p /\\ q) <=> ~p \\/ ~q"]
    split = _ok(client.call("apply_tactic", session=sid, tactic="REPEAT GEN_TAC THEN EQ_TAC"))
    assert [g["goal"] for g in split["goals"]] == ["~(p /\\ q) ==> ~p \\/ ~q", "~p \\/ ~q ==> ~(p /\\ q)"]
    assert "`~(p /\\ q) ==> ~p \\/ ~q`" in split["goals"][0]["text"]  # as HOL Light prints it
    stripped = _ok(client.call("apply_tactic", session=sid, tactic="DISCH_TAC"))
    assert stripped["goals"][0]["hyps"] == [{"label": "", "term": "~(p /\\ q)"}] and stripped["steps"] == 2
    assert "0 [`~(p /\\ q)`]" in stripped["goals"][0]["text"]
    back = _ok(client.call("undo", session=sid))
    assert back["goals"] == split["goals"] and back["steps"] == 1
    hits = _ok(client.call("search", session=sid, by="name", text="DE_MORGAN"))
    assert "DE_MORGAN_THM" in {h["name"] for h in hits["hits"]}
    by_term = _ok(client.call("search", session=sid, by="term", text="~(p /\\ q) <=> ~p \\/ ~q"))
    assert "DE_MORGAN_THM" in {h["name"] for h in by_term["hits"]}
    for tactic in ("DISCH_TAC", "ASM_MESON_TAC[]"):
        _ok(client.call("apply_tactic", session=sid, tactic=tactic))
    assert _ok(client.call("goals", session=sid))["goals"] == split["goals"][1:]
    done = _ok(client.call("apply_tactic", session=sid, tactic="MESON_TAC[]"))
    assert done["solved"] and done["goals"] == [] and done["steps"] == 4
    assert done["script"] == "(REPEAT GEN_TAC THEN EQ_TAC) THENL [(DISCH_TAC) THEN (ASM_MESON_TAC[]); MESON_TAC[]]"
    checked = _ok(client.call("check_proof", suite="hol-light-core", problem="de_morgan_and", proof=done["script"]))
    assert checked["passed"] and checked["verdict"]["status"] == Status.PASS.value
    assert checked["verdict"]["checker"]["image"].startswith("provebench/hol-light")
    assert _ok(client.call("close_session", session=sid)) == {"session": sid, "was_open": True}
    _refused(client.call("goals", session=sid), "no open proof session")


def test_check_proof_of_a_wrong_proof_is_a_verdict_not_an_error(client: McpClient) -> None:
    checked = _ok(client.call("check_proof", suite="hol-light-core", problem="contrapositive", proof="ARITH_TAC"))
    assert not checked["passed"] and checked["verdict"]["status"] == Status.FAIL.value
    assert checked["verdict"]["messages"]
    cheat = _ok(client.call("check_proof", suite="hol-light-core", problem="contrapositive", proof="CHEAT_TAC"))
    assert (cheat["verdict"]["status"], cheat["verdict"]["reason"]) == (
        Status.CHEATING.value,
        Reason.FORBIDDEN_CONSTRUCT.value,
    )


def test_bad_inputs_are_tool_errors_of_one_line_and_the_server_serves_on(client: McpClient) -> None:
    _refused(client.call("list_problems", suite="no-such-suite"), "unknown suite 'no-such-suite'", "hol-light-core")
    for path in ("/work/problems/hol-light-core", "../hol-light-core", "problems/hol-light-core", "."):
        _refused(client.call("open_session", suite=path, problem="add_comm"), "never paths")
    _refused(client.call("check_proof", suite=str(ROOT / "problems" / "hol-light-core"), problem="x", proof="A"))
    _refused(client.call("open_session", suite="hol-light-core", problem="nope"), "has no problem 'nope'")
    _refused(client.call("apply_tactic", session="nope", tactic="ALL_TAC"), "no open proof session 'nope'")
    _refused(client.call("list_problems", suite="hol-light-core", limit=10_000), "argument 'limit'")
    _refused(client.call("search", session="x", by="meaning", text="t"), "argument 'by'")
    _refused(client.call("open_session", suite="hol-light-core"), "argument 'problem'", "required")
    _refused(client.call("no_such_tool"), "no_such_tool")
    sid = _ok(client.call("open_session", suite="hol-light-core", problem="contrapositive"))["session"]
    _refused(client.call("apply_tactic", session=sid, tactic="CHEAT_TAC"), "CHEATING forbidden-construct")
    _refused(client.call("apply_tactic", session=sid, tactic="NO_SUCH_TAC"), "FAIL compile-error", "NO_SUCH_TAC")
    _refused(client.call("apply_tactic", session=sid, tactic="ARITH_TAC"), "FAIL tactic-failed")
    _refused(client.call("undo", session=sid), "nothing-to-undo")
    _refused(client.call("search", session=sid, by="term", text="m + + n"), "search failed")
    assert _ok(client.call("goals", session=sid))["steps"] == 0  # nothing refused changed the session
    assert _ok(client.call("apply_tactic", session=sid, tactic="MESON_TAC[]"))["solved"]
    assert _ok(client.call("close_session", session=sid))["was_open"]
    assert _ok(client.call("close_session", session=sid)) == {"session": sid, "was_open": False}


def test_list_problems_is_a_bounded_page_of_ids_categories_and_statements(client: McpClient) -> None:
    first = _ok(client.call("list_problems", suite="hol-light-core", limit=3))
    assert len(first["problems"]) == 3 and first["more"] == first["total"] - 3 and first["system"] == "hol-light"
    assert set(first["problems"][0]) == {"id", "category", "statement"}
    rest = _ok(client.call("list_problems", suite="hol-light-core", offset=3, limit=100))
    assert rest["more"] == 0 and len(rest["problems"]) == first["total"] - 3
    logic = _ok(client.call("list_problems", suite="hol-light-core", category="logic", limit=100))
    assert logic["total"] > 0 and {p["category"] for p in logic["problems"]} == {"logic"}
