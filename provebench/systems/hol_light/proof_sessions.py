"""HOL Light proof sessions: the harness's session requests (harness/hol_light/sessions.ml), one checker each.

A session lives in the checker it was opened on (a chain of forks of its toplevel, one per state), so
each request waits for that checker, not any free one. Every tactic is vetted as a submitted proof is,
and runs in a fork under the problem's time and memory limits; one that fails, times out or breaks a
rule leaves the state as it was.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from provebench.core.errors import VerifierUnavailable
from provebench.core.proof_states import Goal, SearchBy, SearchHit, SearchResult, StepOutcome
from provebench.systems.hol_light.session import HolLightSession
from provebench.systems.hol_light.vetting import shield_own_bindings

REPLY_GRACE_S = 30.0  # beyond a step's own limit: forking, printing the goals, the reply


class _Reply(BaseModel):
    """A session reply from the harness; unknown keys are ignored, a malformed one is a protocol error."""

    model_config = ConfigDict(extra="ignore")

    ok: bool
    depth: int = 0
    goals: list[Goal] = []
    results: list[SearchHit] = []
    more: int = 0
    status: str = "OK"
    reason: str = ""
    detail: str = ""
    output: str = ""
    seconds: float = 0.0


def _messages(reply: _Reply) -> tuple[str, ...]:
    return tuple(m for m in (reply.detail.strip(), reply.output.strip()) if m)


class HolLightProofSession:
    """One open session: its checker, its id there, and how many steps it stands from the goal."""

    def __init__(
        self,
        checker: HolLightSession,
        sid: str,
        borrow: Callable[[HolLightSession], object],
        give_back: Callable[[HolLightSession], None],
        lost: Callable[[HolLightSession], None],
        wall_s: float,
        memory_mb: int,
        vet: Callable[[str], StepOutcome | None],
    ) -> None:
        self._checker = checker
        self.sid = sid
        self._borrow, self._give_back, self._lost = borrow, give_back, lost
        self._wall_s = wall_s
        self._memory_mb = memory_mb
        self._vet = vet
        self._depth = 0
        self.closed = False
        self.admit: Callable[[], StepOutcome | None] = lambda: None  # a refusal when its checker is full

    @property
    def steps(self) -> int:
        """Tactics applied so far."""
        return self._depth

    def _ask(self, depth: int, verb: str, payload: str = "") -> _Reply:
        if self.closed:
            raise VerifierUnavailable("the session is closed")
        nonce = secrets.token_hex(8)
        data = payload.encode()
        wall_ms = max(1, int(self._wall_s * 1000))
        line = f"PBS {nonce} {self.sid} {depth} {verb} {wall_ms} {self._memory_mb} {len(data)}"
        self._borrow(self._checker)
        try:
            raw = self._checker.exchange(line, data, nonce, self._wall_s + REPLY_GRACE_S, f"a session's {verb}")
        except VerifierUnavailable:
            self.closed = True
            self._lost(self._checker)
            raise
        self._give_back(self._checker)
        reply = parse_reply(raw)
        if not reply.ok and reply.reason == "no-session":  # its processes are gone (the checker moved on)
            self.closed = True
        return reply

    def _outcome(self, reply: _Reply) -> StepOutcome:
        if reply.ok:
            self._depth = reply.depth
            return StepOutcome(ok=True, goals=tuple(reply.goals), steps=reply.depth, seconds=reply.seconds)
        return StepOutcome(
            ok=False,
            steps=self._depth,
            status=reply.status,
            reason=reply.reason,
            messages=_messages(reply),
            seconds=reply.seconds,
        )

    def step(self, tactic: str) -> StepOutcome:
        """Apply ``tactic`` (vetted first) to the first goal; on any failure the state stays as it was."""
        refused = self._vet(tactic) or self.admit()
        if refused is not None:
            return refused.model_copy(update={"steps": self._depth})
        return self._outcome(self._ask(self._depth, "step", shield_own_bindings(tactic)))

    def undo(self) -> StepOutcome:
        """Go back one step; at the goal itself there is nothing to undo."""
        if self._depth == 0:
            return StepOutcome(
                ok=False, status="ERROR", reason="nothing-to-undo", messages=("the session is at its goal",)
            )
        return self._outcome(self._ask(self._depth - 1, "undo"))

    def goals(self) -> StepOutcome:
        """The goals now."""
        return self._outcome(self._ask(self._depth, "goals"))

    def search(self, by: SearchBy, text: str) -> SearchResult:
        """Theorems of the checker's context by name or term pattern (at most 50, and how many more)."""
        reply = self._ask(self._depth, "search", f"{by}\n{text}")
        return SearchResult(ok=reply.ok, hits=tuple(reply.results), more=reply.more, messages=_messages(reply))

    def close(self) -> None:
        """End the session's processes in its checker (nothing if the checker is gone)."""
        if self.closed:
            return
        self.closed = True
        nonce = secrets.token_hex(8)
        try:
            self._borrow(self._checker)
        except VerifierUnavailable:
            return
        try:
            self._checker.exchange(f"PBSCLOSE {nonce} {self.sid}", b"", nonce, REPLY_GRACE_S, "closing a session")
        except VerifierUnavailable:
            self._lost(self._checker)
            return
        self._give_back(self._checker)


def parse_reply(raw: bytes) -> _Reply:
    """A session reply; one that does not parse is the checker's fault."""
    try:
        data: Any = json.loads(raw.decode("utf-8", errors="replace"))
        return _Reply.model_validate(data)
    except (ValueError, ValidationError):
        raise VerifierUnavailable(f"the check server sent an unreadable session reply: {raw[:200]!r}") from None


def open_request(sid: str, goal: str, wall_s: float, memory_mb: int, key: str | None) -> tuple[str, str, bytes]:
    """The nonce, request line and payload that open session ``sid`` on ``goal`` (at a held position: ``key``)."""
    nonce = secrets.token_hex(8)
    data = goal.encode()
    where = f"PBSOPEN {nonce}" if key is None else f"PBSOPENK {nonce} {key}"
    return nonce, f"{where} {sid} {max(1, int(wall_s * 1000))} {memory_mb} {len(data)}", data


def opened(reply: _Reply) -> StepOutcome:
    """The outcome of opening: the goal, or why there is no session."""
    if reply.ok:
        return StepOutcome(ok=True, goals=tuple(reply.goals), seconds=reply.seconds)
    return StepOutcome(ok=False, status=reply.status, reason=reply.reason, messages=_messages(reply))
