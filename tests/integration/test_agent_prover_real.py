"""The agent prover against a scripted tool-calling double of the OpenAI API, on real HOL Light checkers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from provebench.boards.pages import render_run_report
from provebench.core.model import Problem, Reason, Status
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.doubles.openai_tools import ToolCallingDouble, Turn, tool_result

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
PROBLEMS = ["de_morgan_and", "contrapositive", "peirce"]
STATEMENTS = {  # as the prompt shows each goal
    "de_morgan_and": "!p q. ~(p /\\ q) <=> ~p \\/ ~q",
    "contrapositive": "!p q. (p ==> q) ==> (~q ==> ~p)",
    "peirce": "!p q. ((p ==> q) ==> p) ==> p",
}
BUDGET = 12


def _problem(messages: list[dict[str, Any]]) -> str:
    first = next(m["content"] for m in messages if m["role"] == "user")
    return next(pid for pid, s in STATEMENTS.items() if f"`{s}`" in first)


def _script_of(messages: list[dict[str, Any]]) -> str:
    return next(
        r["script"] for m in reversed(messages) if m["role"] == "tool" and "script" in (r := json.loads(m["content"]))
    )


def script(messages: list[dict[str, Any]]) -> Turn:
    """Step by step on de_morgan_and, two calls a turn on contrapositive, and goals for ever on peirce."""
    pid = _problem(messages)
    done = sum(1 for m in messages if m["role"] == "tool")
    if pid == "de_morgan_and":
        plan: list[Turn] = [
            {"say": "Let me see the goal.", "calls": [("goals", {})]},
            {"calls": [("apply_tactic", {"tactic": "REPEAT GEN_TAC THEN EQ_TAC"})]},
            {"calls": [("apply_tactic", {"tactic": "DISCH_TAC"})]},
            {"calls": [("apply_tactic", {"tactic": "NO_SUCH_TAC"})]},
            {"calls": [("search", {"by": "name", "text": "DE_MORGAN"})]},
            {"calls": [("apply_tactic", {"tactic": "ASM_MESON_TAC[]"})]},
            {"calls": [("apply_tactic", {"tactic": "MESON_TAC[]"})]},
        ]
        if done < len(plan):
            return plan[done]
        if done == len(plan):
            return {"calls": [("check_proof", {"proof": _script_of(messages)})]}
        assert tool_result(messages)["status"] == "PASS"
        return {"say": "Submitting.", "calls": [("submit", {"proof": _script_of(messages)})]}
    if pid == "contrapositive":
        if done == 0:
            return {
                "calls": [
                    ("apply_tactic", {"tactic": "REPEAT STRIP_TAC"}),
                    ("apply_tactic", {"tactic": "ASM_MESON_TAC[]"}),
                ]
            }
        return {"calls": [("submit", {"proof": _script_of(messages)})]}
    return {"calls": [("goals", {})]}


def _run(root: Path, settings: Settings, factory: Factory, double: ToolCallingDouble, resume: bool = False) -> Any:
    config = build_config(
        {
            "suite": "hol-light-core",
            "problems": PROBLEMS,
            "prover": {
                "name": "agent",
                "model": "tool-model",
                "base_url": double.base_url,
                "api_key_env": None,
                "max_tool_calls": BUDGET,
            },
            "out": str(root),
        },
        {},
        "test",
    )
    plan = plan_run(config, settings)
    prover = make_prover("agent", config.prover.settings())
    prover.prepare(plan.problems)
    rundir = RunDir.existing(root) if resume else RunDir.create(root, plan.suite.name, prover.name)
    return rundir, execute(plan, rundir, prover, settings, RunHooks(), factory, resume=resume)


def test_the_agent_solves_two_problems_step_by_step_and_fails_a_third_within_budget(
    tmp_path: Path, settings: Settings, shared_verifier_factory: Factory
) -> None:
    with ToolCallingDouble(script) as double:
        rundir, summary = _run(tmp_path / "run", settings, shared_verifier_factory, double)
    records = {r.problem: r for r in rundir.records()}
    assert summary.solved == 2 and summary.complete
    solved = records["de_morgan_and"]
    assert (solved.verdict.status, solved.verdict.reason) == (Status.PASS, Reason.PROVED)
    assert solved.prover.proof == "(REPEAT GEN_TAC THEN EQ_TAC) THENL [(DISCH_TAC) THEN (ASM_MESON_TAC[]); MESON_TAC[]]"
    calls = [e for e in solved.prover.trajectory or () if "tool" in e]
    assert [c["tool"] for c in calls] == [
        "goals",
        "apply_tactic",
        "apply_tactic",
        "apply_tactic",
        "search",
        "apply_tactic",
        "apply_tactic",
        "check_proof",
        "submit",
    ]
    assert len(calls[1]["result"]["goals"]) == 2 and calls[3]["result"]["reason"] == "compile-error"
    assert "DE_MORGAN_THM" in {t["name"] for t in calls[4]["result"]["theorems"]}
    assert calls[7]["result"]["status"] == "PASS" and {"say": "Let me see the goal."} in solved.prover.trajectory
    assert records["contrapositive"].verdict.status is Status.PASS
    assert not any("stopped" in e for r in (solved, records["contrapositive"]) for e in r.prover.trajectory or ())
    failed = records["peirce"]
    assert (failed.verdict.status, failed.verdict.reason) == (Status.FAIL, Reason.NO_PROOF)
    assert failed.prover.trajectory is not None
    assert sum("tool" in e for e in failed.prover.trajectory) == BUDGET
    assert failed.prover.trajectory[-1] == {"stopped": f"the budget of {BUDGET} tool calls is spent"}
    assert failed.prover.tokens_in > 0 and failed.prover.tokens_out > 0

    html = render_run_report(rundir)
    data = re.search(r'<script type="application/json" id="attempt-data">(.*?)</script>', html, re.S)
    assert data is not None
    shown = [d["trajectory"] for d in json.loads(data.group(1)) if d["trajectory"]]
    assert len(shown) == 3 and any('9. submit {"proof": "(REPEAT GEN_TAC' in t for t in shown)
    assert "Agent's trajectory" in html


def test_a_resumed_run_makes_again_the_attempt_that_was_cut_short(
    tmp_path: Path, settings: Settings, shared_verifier_factory: Factory
) -> None:
    with ToolCallingDouble(script) as double:
        rundir, _ = _run(tmp_path / "run", settings, shared_verifier_factory, double)
        lines = rundir.journal_path.read_text().splitlines(keepends=True)
        # An attempt interrupted before it ended was never journalled: take de_morgan_and's out.
        rundir.journal_path.write_text("".join(line for line in lines if '"de_morgan_and"' not in line))
        asked_before = len(double.requests)
        rundir, summary = _run(tmp_path / "run", settings, shared_verifier_factory, double, resume=True)
        again = {_problem(r["messages"]) for r in double.requests[asked_before:]}
    assert again == {"de_morgan_and"} and summary.solved == 2 and summary.complete
