"""The proof tools an MCP client calls: thin adapters over the engine's ``ProofSessions`` and its ordinary check.

Each takes suite and problem names (never paths), returns a frozen model (the tool's structured output) and
refuses what it cannot do with a one-line ``UserError`` (the server makes it a tool error). A session is
advice: only ``check_proof``, the ordinary check with every integrity layer, gives a verdict.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import ProofSessions
from provebench.core.errors import UserError
from provebench.core.model import System, Verdict
from provebench.core.proof_states import Goal, SearchBy, SearchHit, StepOutcome
from provebench.suites.load import SUITE_NAME, Suite, load_suite, suite_folders

MAX_PAGE = 100  # problems in one list_problems answer
MAX_LINE = 1000  # characters of a refusal: one line, whatever the checker said

SuiteName = Annotated[
    str, Field(max_length=200, description="a suite's name, e.g. hol-light-core or s2n-bignum (never a path)")
]
ProblemId = Annotated[str, Field(max_length=200, description="a problem's id in the suite, as list_problems gives it")]
SessionId = Annotated[str, Field(max_length=64, description="a session id, as open_session returned it")]


class ProblemSummary(BaseModel):
    """One problem of a suite: what to prove."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    statement: str


class ProblemPage(BaseModel):
    """Some of a suite's problems, in the suite's order; ``more`` says how many follow."""

    model_config = ConfigDict(frozen=True)

    suite: str
    system: str
    total: int
    offset: int
    problems: tuple[ProblemSummary, ...]
    more: int


class SessionState(BaseModel):
    """A proof session now: its goals (HOL Light's printing in ``text``) and, once solved, the proof its steps make."""

    model_config = ConfigDict(frozen=True)

    session: str
    suite: str
    problem: str
    goals: tuple[Goal, ...]
    steps: int = Field(description="tactics applied so far")
    solved: bool = Field(description="no goal is left: give `script` to check_proof for the verdict")
    script: str | None = Field(description="the one tactic the steps make, once solved")
    seconds: float = Field(description="the step's time in the checker")


class SearchHits(BaseModel):
    """Theorems of the session's context (a proof may use them by name); ``more`` matched but are not shown."""

    model_config = ConfigDict(frozen=True)

    hits: tuple[SearchHit, ...]
    more: int


class CheckResult(BaseModel):
    """The verdict of the ordinary check: the only one there is."""

    model_config = ConfigDict(frozen=True)

    suite: str
    problem: str
    passed: bool
    verdict: Verdict
    retries: int = Field(description="times the checker failed and the check was run again")


class Closed(BaseModel):
    """Whether ``close_session`` ended an open session (an expired or unknown one is already gone)."""

    model_config = ConfigDict(frozen=True)

    session: str
    was_open: bool


def one_line(text: str) -> str:
    """``text`` on one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 3] + "..."


def _refusal(what: str, outcome: StepOutcome) -> UserError:
    said = "; ".join(outcome.messages)
    return UserError(one_line(f"{what}: {outcome.status} {outcome.reason}" + (f": {said}" if said else "")))


class ProofTools:
    """The tools over one engine and its sessions (thread-safe: the SDK runs each call in a worker thread)."""

    def __init__(self, engine: Engine, sessions: ProofSessions, suites_dir: Path) -> None:
        self.engine = engine
        self.sessions = sessions
        self.suites_dir = suites_dir
        self._lock = threading.Lock()
        self._suites: dict[str, Suite] = {}

    def suite_names(self) -> list[str]:
        """The suites a client may name (bundled and the user's)."""
        return sorted(suite_folders(self.suites_dir))

    def _suite(self, name: str) -> Suite:
        """The suite of this name among the bundled and the user's; a path is refused.

        Not ``find_suite``, which would first take a folder of the working directory by that name.
        """
        if not re.fullmatch(SUITE_NAME, name):
            raise UserError(f"{one_line(name)[:80]!r} is not a suite name: tools take suite names, never paths")
        with self._lock:
            if name in self._suites:
                return self._suites[name]
            folder = suite_folders(self.suites_dir).get(name)
            if folder is None:
                raise UserError(f"unknown suite {name!r}; known suites: {', '.join(self.suite_names()) or 'none'}")
            suite = self._suites[name] = load_suite(folder)
            self.engine.plan(suite.problems)  # a template context holds the positions of all of them (s2n-bignum)
            return suite

    def list_problems(
        self,
        suite: SuiteName,
        category: Annotated[str | None, Field(max_length=200, description="only this category")] = None,
        offset: Annotated[int, Field(ge=0, description="skip this many problems")] = 0,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="at most this many problems")] = 20,
    ) -> ProblemPage:
        """List a suite's problems (id, category, statement), a page at a time."""
        s = self._suite(suite)
        chosen = [p for p in s.problems if category is None or p.category == category]
        page = chosen[offset : offset + limit]
        return ProblemPage(
            suite=s.name,
            system=s.manifest.system.value,
            total=len(chosen),
            offset=offset,
            problems=tuple(ProblemSummary(id=p.id, category=p.category, statement=p.statement) for p in page),
            more=max(0, len(chosen) - offset - len(page)),
        )

    def _state(self, sid: str, outcome: StepOutcome) -> SessionState:
        problem = self.sessions.problem(sid)
        return SessionState(
            session=sid,
            suite=problem.suite,
            problem=problem.id,
            goals=outcome.goals,
            steps=outcome.steps,
            solved=outcome.solved,
            script=self.sessions.script(sid) if outcome.solved else None,
            seconds=outcome.seconds,
        )

    def open_session(self, suite: SuiteName, problem: ProblemId) -> SessionState:
        """Open a proof session on a problem: its goal, to which apply_tactic applies tactics one at a time."""
        p = self._suite(suite).problem(problem)
        if p.system is not System.HOL_LIGHT:  # refused before its checker would start only to say so
            raise UserError(f"proof sessions are HOL Light's; {p.suite} is a {p.system.value} suite: use check_proof")
        sid, outcome = self.sessions.open(p)
        if sid is None:
            raise _refusal(f"no session opened on {p.id}", outcome)
        return self._state(sid, outcome)

    def apply_tactic(
        self,
        session: SessionId,
        tactic: Annotated[str, Field(description="a HOL Light tactic, e.g. REPEAT STRIP_TAC or ASM_MESON_TAC[]")],
    ) -> SessionState:
        """Apply a tactic to the first goal; the goals it leaves come first. A tactic that fails changes nothing."""
        outcome = self.sessions.step(session, tactic)
        if not outcome.ok:
            raise _refusal("tactic not applied (the goals are as they were)", outcome)
        return self._state(session, outcome)

    def undo(self, session: SessionId) -> SessionState:
        """Take back the last tactic applied."""
        outcome = self.sessions.undo(session)
        if not outcome.ok:
            raise _refusal("nothing undone", outcome)
        return self._state(session, outcome)

    def goals(self, session: SessionId) -> SessionState:
        """The goals left now, with their hypotheses."""
        outcome = self.sessions.goals(session)
        if not outcome.ok:
            raise _refusal("no goals", outcome)
        return self._state(session, outcome)

    def search(
        self,
        session: SessionId,
        by: Annotated[SearchBy, Field(description="name: a part of a theorem's name; term: a term pattern")],
        text: Annotated[str, Field(max_length=10_000, description="the name part, or the pattern, e.g. m + n")],
    ) -> SearchHits:
        """Find theorems of the session's context by name or by a term pattern, for tactics to use."""
        found = self.sessions.search(session, by, text)
        if not found.ok:
            raise UserError(one_line("search failed: " + "; ".join(found.messages)))
        return SearchHits(hits=found.hits, more=found.more)

    def check_proof(
        self,
        suite: SuiteName,
        problem: ProblemId,
        proof: Annotated[str, Field(description="the whole proof, e.g. a session's script")],
    ) -> CheckResult:
        """Check a proof of a problem with the ordinary check: the verdict (PASS, FAIL, ...) is the final word."""
        p = self._suite(suite).problem(problem)
        checked = self.engine.check(p, proof)
        return CheckResult(
            suite=p.suite, problem=p.id, passed=checked.verdict.passed, verdict=checked.verdict, retries=checked.retries
        )

    def close_session(self, session: SessionId) -> Closed:
        """End a proof session (sessions also end after a while unused)."""
        try:
            self.sessions.problem(session)
        except UserError:
            return Closed(session=session, was_open=False)
        self.sessions.close(session)
        return Closed(session=session, was_open=True)

    def tools(self) -> list[Callable[..., BaseModel]]:
        """The tools, in the order a client lists them."""
        return [
            self.list_problems,
            self.open_session,
            self.apply_tactic,
            self.undo,
            self.goals,
            self.search,
            self.check_proof,
            self.close_session,
        ]
