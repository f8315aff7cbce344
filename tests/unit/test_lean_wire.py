"""The Lean REPL's replies as provebench reads them (provebench/systems/lean/wire.py).

The replies here are written for these tests in the REPL's shapes; the REPL's own recorded replies are
read by tests/integration/test_lean_repl_conformance.py when a checkout of the REPL is at hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.systems.lean.wire import ReplResponse

SORRY_REPLY: dict[str, Any] = {
    "env": 3,
    "messages": [
        {
            "severity": "warning",
            "pos": {"line": 2, "column": 8},
            "endPos": {"line": 2, "column": 9},
            "data": "declaration uses 'sorry'",
        }
    ],
    "sorries": [
        {"goal": "⊢ True", "proofState": 0, "pos": {"line": 2, "column": 20}, "endPos": {"line": 2, "column": 25}}
    ],
}
PARSE_ERROR_REPLY: dict[str, Any] = {
    "env": 0,
    "messages": [{"severity": "error", "pos": {"line": 1, "column": 9}, "endPos": None, "data": "unexpected token"}],
}
TACTIC_SORRY_REPLY: dict[str, Any] = {"env": 1, "sorries": [{"goal": "⊢ True", "proofState": None}]}
INFOTREE_REPLY: dict[str, Any] = {"env": 2, "infotree": [{"node": None, "kind": "CompletionInfo", "children": []}]}


@pytest.mark.parametrize(
    "reply",
    [{"env": 0}, SORRY_REPLY, PARSE_ERROR_REPLY, TACTIC_SORRY_REPLY, INFOTREE_REPLY],
    # ASCII ids: mutmut names tests by id, and a goal's "⊢" does not survive its round trip.
    ids=["env only", "sorry", "parse error", "tactic sorry", "infotree"],
)
def test_a_reply_is_passed_on_as_the_repl_sent_it(reply: dict[str, Any]) -> None:
    # Kimina's API passes the reply on: no empty lists added, no nulls dropped, unknown keys kept.
    assert ReplResponse.parse(reply).as_json() == reply


def test_an_empty_reply_is_an_empty_object() -> None:
    assert ReplResponse.parse(None).as_json() == {}


@pytest.mark.parametrize(
    "reply",
    [
        {"env": 0, "messages": [{"severity": "error", "data": "no position"}]},
        {"env": 0, "messages": [{"severity": "error", "pos": {"line": 1, "column": 0}}]},
        {"env": 0, "messages": [{"severity": "fatal", "pos": {"line": 1, "column": 0}, "data": "x"}]},
        {"env": 0, "sorries": [{"proofState": 0}]},
        {"env": 0, "messages": {"severity": "error"}},
    ],
    ids=[
        "message without pos",
        "message without data",
        "unknown severity",
        "sorry without goal",
        "messages not a list",
    ],
)
def test_a_reply_missing_what_the_repl_always_sends_is_the_checkers_failure(reply: dict[str, Any]) -> None:
    with pytest.raises(VerifierUnavailable, match="does not fit its protocol"):
        ReplResponse.parse(reply)
