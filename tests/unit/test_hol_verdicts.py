"""How a check server's reply becomes a verdict (no checker needed: replies are the server's JSON)."""

from __future__ import annotations

from provebench.core.model import Reason, Status
from provebench.systems.hol_light.session import ServerReply
from provebench.systems.hol_light.verifier import verdict_from_reply

_PROGRESS = "".join(f"Stepping to state s{i}\n" for i in range(3000))  # as s2n-bignum's tactics print


def test_a_pass_keeps_the_start_of_its_printing_only() -> None:
    reply = ServerReply.model_validate({"status": "PASS", "reason": "proved", "output": _PROGRESS})
    v = verdict_from_reply(reply, None)
    assert (v.status, v.reason) == (Status.PASS, Reason.PROVED)
    (printing,) = v.messages
    assert printing.startswith("Stepping to state s0\nStepping to state s1\n")
    assert printing.endswith("(printing cut: a PASS keeps its first 4096 characters)")
    assert len(printing) < 4200 < len(_PROGRESS)


def test_a_failure_keeps_its_error_and_all_printing_the_server_sent() -> None:
    reply = ServerReply.model_validate(
        {"status": "FAIL", "reason": "tactic-failed", "detail": 'Failure "ARITH_TAC"\n', "output": _PROGRESS}
    )
    v = verdict_from_reply(reply, None)
    assert v.messages == ('Failure "ARITH_TAC"', _PROGRESS.strip())


def test_short_printing_and_empty_parts() -> None:
    blank = ServerReply.model_validate(
        {"status": "PASS", "reason": "proved", "output": "  \n", "wall_seconds": 0.0123456789}
    )
    v = verdict_from_reply(blank, None)
    assert v.messages == () and v.check_seconds == 0.012346
    short = ServerReply.model_validate({"status": "PASS", "reason": "proved", "output": "- : int = 2\n"})
    assert verdict_from_reply(short, None).messages == ("- : int = 2",)
