"""`provebench mcp`'s tools as the guide lists them, and what is refused before any checker starts.

The server is the real one, reached through the MCP SDK's own in-process client; nothing here needs a
checker (no container starts: every call here is refused before one would). Proof sessions and checks on
real HOL Light, over stdio, are in tests/integration/test_mcp_real.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent

from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import ProofSessions
from provebench.core.settings import Settings
from provebench.integrations.mcp.server import build_server
from provebench.integrations.mcp.tools import ProofTools

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "mcp.md"


@pytest.fixture
def tools(tmp_path: Path) -> Iterator[ProofTools]:
    settings = Settings(suites_dir=tmp_path / "suites")  # the bundled suites only
    with Engine(settings) as engine:
        yield ProofTools(engine, ProofSessions(engine), settings.suites_dir)


def _guide_tools() -> dict[str, tuple[set[str], set[str]]]:
    """Each tool of the guide's table: its required and its optional (`name`?) arguments."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", GUIDE.read_text(), re.M)
    out = {}
    for name, args in rows:
        listed = re.findall(r"`(\w+)`(\??)", args)
        out[name] = ({a for a, opt in listed if not opt}, {a for a, opt in listed if opt})
    return out


def _calls(tools: ProofTools, *calls: tuple[str, dict[str, Any]]) -> list[CallToolResult]:
    async def go() -> list[CallToolResult]:
        async with Client(build_server(tools)) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(go)


def _line(result: CallToolResult) -> str:
    assert result.is_error and len(result.content) == 1, result
    block = result.content[0]
    assert isinstance(block, TextContent) and "\n" not in block.text
    return block.text


def test_the_tools_and_their_arguments_are_those_the_guide_lists(tools: ProofTools) -> None:
    async def listed() -> list[Any]:
        async with Client(build_server(tools)) as client:
            return list((await client.list_tools()).tools)

    served = {
        t.name: (set(t.input_schema.get("required", [])), set(t.input_schema["properties"])) for t in anyio.run(listed)
    }
    documented = _guide_tools()
    assert len(documented) == 8 and set(served) == set(documented)
    for name, (required, optional) in documented.items():
        assert served[name] == (required, required | optional), name


def test_every_tool_says_what_it_does_and_answers_in_structured_json(tools: ProofTools) -> None:
    async def listed() -> list[Any]:
        async with Client(build_server(tools)) as client:
            return list((await client.list_tools()).tools)

    for tool in anyio.run(listed):
        assert tool.description and tool.output_schema and tool.output_schema["type"] == "object", tool.name
        for arg, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{tool.name}({arg}) has no description"
    by_name = {t.name: t for t in anyio.run(listed)}
    assert by_name["search"].input_schema["properties"]["by"]["enum"] == ["name", "term"]
    assert by_name["list_problems"].input_schema["properties"]["limit"]["maximum"] == 100


def test_suites_are_named_never_given_as_paths_and_each_refusal_is_one_line(tools: ProofTools) -> None:
    core = str(Path(__file__).resolve().parents[2] / "problems" / "hol-light-core")
    results = _calls(
        tools,
        ("list_problems", {"suite": core}),
        ("open_session", {"suite": "../problems/hol-light-core", "problem": "add_comm"}),
        ("check_proof", {"suite": "hol-light-core/", "problem": "add_comm", "proof": "ARITH_TAC"}),
        ("list_problems", {"suite": "hol-light-core\n"}),
        ("list_problems", {"suite": "no-such-suite"}),
        ("open_session", {"suite": "hol-light-core", "problem": "no_such_problem"}),
        ("list_problems", {"suite": "hol-light-core", "limit": 0}),
        ("list_problems", {"suite": "x" * 201}),
        ("search", {"session": "s", "by": "meaning", "text": "t"}),
        ("apply_tactic", {"session": "gone", "tactic": "ALL_TAC"}),
        ("undo", {"session": "gone"}),
        ("check_proof", {"suite": "hol-light-core", "problem": "add_comm"}),
        ("open_session", {"suite": "lean4-core", "problem": "pb_and_swap"}),
        ("list_problems", {"suite": "hol-light-core", "limit": 2}),
    )
    lines = [_line(r) for r in results[:-1]]
    assert all("never paths" in line for line in lines[:4]), lines[:4]
    assert "unknown suite 'no-such-suite'; known suites: hol-light-core, lean4-core" in lines[4]
    assert "suite hol-light-core has no problem 'no_such_problem'" in lines[5]
    assert "argument 'limit'" in lines[6] and "argument 'suite'" in lines[7] and "argument 'by'" in lines[8]
    assert all("no open proof session 'gone'" in line for line in lines[9:11])
    assert "argument 'proof': Field required" in lines[11]
    assert "proof sessions are HOL Light's; lean4-core is a lean4 suite: use check_proof" in lines[12]
    served_on = results[-1]
    assert not served_on.is_error and served_on.structured_content is not None
    assert [p["id"] for p in served_on.structured_content["problems"]] == ["excluded_middle", "contrapositive"]


def test_closing_a_session_that_is_not_open_says_so(tools: ProofTools) -> None:
    (closed,) = _calls(tools, ("close_session", {"session": "never-opened"}))
    assert closed.structured_content == {"session": "never-opened", "was_open": False}


def test_without_the_sdk_mcp_says_in_one_line_what_to_install() -> None:
    code = "import sys; sys.modules['mcp'] = None\nfrom provebench.cli.main import main\nsys.exit(main(['mcp']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "provebench: error: mcp needs the MCP SDK: pip install 'provebench[mcp]'"
