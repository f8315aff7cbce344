"""Interactive proof sessions on the engine's warm checkers: open, step, undo, goals, search, close.

What every surface (Python, the service's HTTP routes, the agent prover, MCP) uses. Sessions are
bounded in number and end after an idle timeout; a session whose checker is gone is an error for that
session only. A session is advice: ``check`` sends a proof (by default the one its steps make) through the
engine's ordinary check, with every integrity layer, and that verdict is the only one there is.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from provebench.checking.checked import Checked
from provebench.checking.engine import Engine
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem
from provebench.core.proof_states import Goal, LiveSession, SearchBy, SearchResult, StepOutcome

DEFAULT_SESSIONS = 16
DEFAULT_IDLE_S = 600.0


class NoSuchSession(UserError):
    """A session id that is not open (closed, expired, or never opened)."""


class TooManySessions(UserError):
    """The limit of open sessions is reached."""


@dataclass(frozen=True)
class Step:
    """A tactic applied, and how many goals there were before and after it."""

    tactic: str
    goals_before: int
    goals_after: int


@dataclass
class _Open:
    problem: Problem
    live: LiveSession
    goals: tuple[Goal, ...]
    used_at: float
    steps: list[Step] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one request at a time per session


@dataclass
class _Hole:
    """A goal of the proof tree: empty, or filled by the step applied to it and the goals that step left."""

    tactic: str | None = None
    children: list[_Hole] = field(default_factory=list)

    def render(self) -> str:
        if not self.children:
            return str(self.tactic)
        if len(self.children) == 1:
            return f"({self.tactic}) THEN ({self.children[0].render()})"
        return f"({self.tactic}) THENL [{'; '.join(c.render() for c in self.children)}]"


def proof_script(steps: list[Step]) -> str | None:
    """The one tactic the steps make (each applied to the first goal), or None while goals are left.

    A step that leaves k new goals in place of the one it was applied to becomes ``t`` (k = 0),
    ``(t) THEN (...)`` (k = 1) or ``(t) THENL [...]`` (k > 1).
    """
    root = _Hole()
    holes = [root]
    for s in steps:
        if not holes:
            return None
        hole = holes.pop(0)
        hole.tactic = s.tactic
        hole.children = [_Hole() for _ in range(max(s.goals_after - s.goals_before + 1, 0))]
        holes[0:0] = hole.children
    if holes or root.tactic is None:
        return None
    return root.render()


class ProofSessions:
    """The open sessions of one engine (thread-safe)."""

    def __init__(
        self,
        engine: Engine,
        limit: int = DEFAULT_SESSIONS,
        idle_s: float = DEFAULT_IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, _Open] = {}

    def open(self, problem: Problem, timeout_s: float | None = None) -> tuple[str | None, StepOutcome]:
        """A new session's id and its goal (None and why, if it did not open); each step gets the check's limit."""
        self.close_idle()
        with self._lock:
            if len(self._open) >= self.limit:
                raise TooManySessions(f"{self.limit} proof sessions are open; close one (or wait for one to expire)")
        with self.engine.pool.using(problem) as verifier:
            live, outcome = verifier.open_session(problem, timeout_s)
        if live is None:
            return None, outcome
        sid = secrets.token_urlsafe(12)
        with self._lock:
            self._open[sid] = _Open(problem, live, outcome.goals, self._clock())
        return sid, outcome

    def _get(self, sid: str) -> _Open:
        self.close_idle()
        with self._lock:
            found = self._open.get(sid)
        if found is None:
            raise NoSuchSession(f"no open proof session {sid!r} (closed, expired, or never opened)")
        found.used_at = self._clock()
        return found

    def _run(self, sid: str, action: Callable[[_Open], StepOutcome]) -> StepOutcome:
        s = self._get(sid)
        with s.lock:
            try:
                outcome = action(s)
            except VerifierUnavailable as exc:  # its checker is gone: so is the session, and nothing else
                self._forget(sid)
                raise VerifierUnavailable(f"proof session {sid} ended: {exc}") from None
        if outcome.reason == "no-session":
            self._forget(sid)
        return outcome

    def step(self, sid: str, tactic: str) -> StepOutcome:
        """Apply ``tactic`` to the first goal; on failure the session is as it was."""

        def act(s: _Open) -> StepOutcome:
            before = len(s.goals)
            outcome = s.live.step(tactic)
            if outcome.ok:
                s.steps.append(Step(tactic, before, len(outcome.goals)))
                s.goals = outcome.goals
            return outcome

        return self._run(sid, act)

    def undo(self, sid: str) -> StepOutcome:
        """Go back one step."""

        def act(s: _Open) -> StepOutcome:
            outcome = s.live.undo()
            if outcome.ok:
                del s.steps[outcome.steps :]
                s.goals = outcome.goals
            return outcome

        return self._run(sid, act)

    def goals(self, sid: str) -> StepOutcome:
        """The goals now."""
        return self._run(sid, lambda s: s.live.goals())

    def search(self, sid: str, by: SearchBy, text: str) -> SearchResult:
        """Theorems of the session's context by name or term pattern; proofs may use them, not ``search``."""
        s = self._get(sid)
        with s.lock:
            try:
                return s.live.search(by, text)
            except VerifierUnavailable as exc:
                self._forget(sid)
                raise VerifierUnavailable(f"proof session {sid} ended: {exc}") from None

    def steps(self, sid: str) -> list[Step]:
        """The steps applied so far, in order."""
        return list(self._get(sid).steps)

    def problem(self, sid: str) -> Problem:
        """The problem the session is on."""
        return self._get(sid).problem

    def script(self, sid: str) -> str | None:
        """The proof the steps make, once no goal is left (None before)."""
        return proof_script(self._get(sid).steps)

    def check(self, sid: str, proof: str | None = None) -> Checked:
        """The verdict on ``proof`` (default: the steps' script) from the engine's ordinary check."""
        s = self._get(sid)
        text = proof if proof is not None else proof_script(s.steps)
        if text is None:
            raise UserError(f"proof session {sid} has goals left: give the proof to check")
        return self.engine.check(s.problem, text)

    def close(self, sid: str) -> None:
        """End a session (an unknown id is not an error: it may have expired)."""
        s = self._forget(sid)
        if s is not None:
            with s.lock:
                try:
                    s.live.close()
                except VerifierUnavailable:
                    pass  # its checker is gone, and the session with it

    def _forget(self, sid: str) -> _Open | None:
        with self._lock:
            return self._open.pop(sid, None)

    def close_idle(self) -> list[str]:
        """End the sessions idle for longer than ``idle_s``; their ids."""
        now = self._clock()
        with self._lock:
            idle = [sid for sid, s in self._open.items() if now - s.used_at > self.idle_s]
        for sid in idle:
            self.close(sid)
        return idle

    def close_all(self) -> None:
        """End every session."""
        with self._lock:
            ids = list(self._open)
        for sid in ids:
            self.close(sid)

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)
