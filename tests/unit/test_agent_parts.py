"""The agent prover's parts that need no checker, and the tool-calling double held to the API's own shapes."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord, ProverAnswer
from provebench.core.model import Reason, Status, Verdict
from provebench.provers import agent_tools
from provebench.provers.registry import make_prover
from provebench.suites.load import find_suite
from tests.doubles.openai_tools import ToolCallingDouble


def _calls(_messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"calls": [("goals", {})]}


def test_the_double_answers_in_the_apis_shape_and_refuses_what_the_api_refuses() -> None:
    with ToolCallingDouble(_calls) as double:
        client = openai.OpenAI(base_url=double.base_url, api_key="unused", max_retries=0)
        user = {"role": "user", "content": "prove it"}
        reply = client.chat.completions.create(model="m", messages=[user], tools=agent_tools.TOOLS)  # type: ignore[arg-type]
        (call,) = reply.choices[0].message.tool_calls or []
        assert call.function.name == "goals" and call.function.arguments == "{}"
        assert reply.choices[0].finish_reason == "tool_calls" and reply.usage and reply.usage.total_tokens > 0
        dangling = {"role": "tool", "tool_call_id": "call_nope", "content": "{}"}
        with pytest.raises(openai.BadRequestError, match="must be a response to a preceeding message"):
            client.chat.completions.create(model="m", messages=[user, dangling], tools=agent_tools.TOOLS)  # type: ignore[list-item, arg-type]
        unanswered = reply.choices[0].message.model_dump(exclude_none=True)
        with pytest.raises(openai.BadRequestError, match="must be followed by tool messages"):
            client.chat.completions.create(model="m", messages=[user, unanswered, user], tools=agent_tools.TOOLS)  # type: ignore[list-item, arg-type]
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="m", messages="not a list", tools=agent_tools.TOOLS)  # type: ignore[arg-type]


def test_every_tool_is_a_function_with_a_closed_object_of_parameters() -> None:
    assert agent_tools.TOOL_NAMES == {"apply_tactic", "undo", "goals", "search", "check_proof", "submit"}
    for tool in agent_tools.TOOLS:
        params = tool["function"]["parameters"]
        assert params["type"] == "object" and params["additionalProperties"] is False
        assert set(params["required"]) == set(params["properties"])


@pytest.mark.parametrize("raw", ["{", "[1, 2]", '"text"'])
def test_call_arguments_that_are_not_a_json_object_are_the_models_error(raw: str) -> None:
    with pytest.raises(UserError, match="arguments are not (JSON|a JSON object)"):
        agent_tools.arguments(raw)


def test_agent_settings_are_checked_and_lean_suites_are_refused(tmp_path: Any) -> None:
    with pytest.raises(UserError, match="max_tool_calls"):
        make_prover("agent", {"model": "m", "max_tool_calls": 0})
    with pytest.raises(UserError, match="unknown_key"):
        make_prover("agent", {"model": "m", "unknown_key": 1})
    prover = make_prover("agent", {"model": "m", "api_key_env": None})
    lean = find_suite("lean4-core", tmp_path)
    with pytest.raises(UserError, match="proof sessions are HOL Light's"):
        prover.prepare(lean.problems)


def test_a_trajectory_is_withheld_with_the_proofs() -> None:
    record = AttemptRecord(
        problem="p",
        sample=0,
        round=0,
        prover=ProverAnswer(name="agent", proof="ARITH_TAC", raw_reply="r", trajectory=({"tool": "goals"},)),
        verdict=Verdict(status=Status.FAIL, reason=Reason.NO_PROOF),
        session=0,
        finished_at=0.0,
    )
    assert record.withheld().prover.trajectory == ({"tool": "goals"},)
    for parts in (("proof",), ("raw_reply",), ("proof", "raw_reply")):
        assert record.withheld(*parts).prover.trajectory is None  # type: ignore[arg-type]
