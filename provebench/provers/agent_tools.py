"""The agent prover's tools: their OpenAI function definitions, and each call carried out on a proof session.

apply_tactic, undo, goals and search act on the attempt's session (advice: what a session shows decides
nothing); check_proof runs the ordinary check of a whole proof (its verdict is advice too: the attempt's
verdict comes from the check of what the agent submits); submit ends the attempt with a proof.
Results are JSON data, bounded, so that a model's context does not fill with one search.
"""

from __future__ import annotations

import json
from typing import Any

from provebench.checking.proof_sessions import ProofSessions
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.proof_states import Goal, StepOutcome

MAX_RESULT_CHARS = 8000  # of one tool result sent back to the model (and journalled)

_TEXT = {"type": "string"}


def _function(name: str, description: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    props = properties or {}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": props,
                "required": list(props),
                "additionalProperties": False,
            },
        },
    }


TOOLS: list[dict[str, Any]] = [
    _function(
        "apply_tactic",
        "Apply one HOL Light tactic (an OCaml expression of type tactic) to the first goal. On failure the "
        "goals stay as they were. Returns the goals left.",
        {"tactic": {**_TEXT, "description": "e.g. REPEAT STRIP_TAC"}},
    ),
    _function("undo", "Take back the last tactic applied. Returns the goals."),
    _function("goals", "The goals still to prove, each with its assumptions."),
    _function(
        "search",
        "Find theorems of the context by name (a substring) or by a term pattern (HOL Light syntax, no "
        "backquotes). Proofs may use the theorems found, not this tool.",
        {"by": {"type": "string", "enum": ["name", "term"]}, "text": _TEXT},
    ),
    _function(
        "check_proof",
        "Check a whole proof (one tactic expression) of the goal with the real checker. Returns the verdict.",
        {"proof": _TEXT},
    ),
    _function(
        "submit",
        "Submit the final proof (one tactic expression); this ends the attempt. To submit the tactics "
        "applied so far, once no goal is left, pass the proof the goals tool's `script` shows.",
        {"proof": _TEXT},
    ),
]
TOOL_NAMES = frozenset(t["function"]["name"] for t in TOOLS)


def _goal(g: Goal) -> dict[str, Any]:
    return {"assumptions": [h.term for h in g.hyps], "goal": g.goal}


def _state(sessions: ProofSessions, sid: str, outcome: StepOutcome) -> dict[str, Any]:
    if not outcome.ok:
        return {"ok": False, "status": outcome.status, "reason": outcome.reason, "messages": list(outcome.messages)}
    out: dict[str, Any] = {"ok": True, "goals": [_goal(g) for g in outcome.goals], "steps": outcome.steps}
    if not outcome.goals:
        out["script"] = sessions.script(sid)
    return out


def _bounded(result: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(result)
    if len(text) <= MAX_RESULT_CHARS:
        return result
    return {"truncated": True, "text": text[:MAX_RESULT_CHARS]}


def arguments(raw: str) -> dict[str, Any]:
    """A call's arguments: a JSON object (anything else is the model's error, said back to it)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError as exc:
        raise UserError(f"the arguments are not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError("the arguments are not a JSON object")
    return data


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"`{key}` must be a non-empty string")
    return value


def call(sessions: ProofSessions, sid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Carry out one tool call (not submit) and its result; a bad call is an error result, never a crash."""
    try:
        if name == "apply_tactic":
            return _bounded(_state(sessions, sid, sessions.step(sid, _text(args, "tactic"))))
        if name == "undo":
            return _bounded(_state(sessions, sid, sessions.undo(sid)))
        if name == "goals":
            return _bounded(_state(sessions, sid, sessions.goals(sid)))
        if name == "search":
            by = args.get("by")
            if by not in ("name", "term"):
                raise UserError("`by` must be name or term")
            found = sessions.search(sid, by, _text(args, "text"))
            hits = [{"name": h.name, "statement": h.statement} for h in found.hits]
            return _bounded({"ok": found.ok, "theorems": hits, "more": found.more, "messages": list(found.messages)})
        if name == "check_proof":
            verdict = sessions.check(sid, _text(args, "proof")).verdict
            return _bounded(
                {"status": verdict.status.value, "reason": verdict.reason.value, "messages": list(verdict.messages)}
            )
        raise UserError(f"no tool {name!r}; the tools are {', '.join(sorted(TOOL_NAMES))}")
    except UserError as exc:
        return {"ok": False, "error": str(exc)}
    except VerifierUnavailable as exc:  # the session's checker is gone: said to the model, the attempt goes on
        return {"ok": False, "error": f"the checker failed: {exc}"}
