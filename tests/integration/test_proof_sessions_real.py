"""Interactive proof sessions on real HOL Light checkers in containers (harness/hol_light/sessions.ml)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence

import pytest

from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import ProofSessions, Step, proof_script
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem, Status
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier, make_hol_light_group_verifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]


@pytest.fixture(scope="module")
def engine(settings: Settings, shared_verifier_factory: Factory) -> Iterator[Engine]:
    with Engine(settings, shared_verifier_factory) as e:
        yield e


@pytest.fixture
def sessions(engine: Engine) -> Iterator[ProofSessions]:
    s = ProofSessions(engine)
    yield s
    s.close_all()


def _open(sessions: ProofSessions, problem: Problem, timeout_s: float | None = None) -> str:
    sid, opened = sessions.open(problem, timeout_s)
    assert sid is not None and opened.ok and len(opened.goals) == 1, opened
    return sid


def test_steps_split_goals_and_the_steps_script_passes_the_ordinary_check(
    sessions: ProofSessions, core_suite: Suite
) -> None:
    problem = core_suite.problem("de_morgan_and")
    sid = _open(sessions, problem)
    (goal,) = sessions.goals(sid).goals
    assert goal.goal == "forall p q. ~(p /\\ q) <=> ~p \\/ ~q" and goal.hyps == ()
    split = sessions.step(sid, "REPEAT GEN_TAC THEN EQ_TAC")
    assert split.ok and len(split.goals) == 2 and split.steps == 1
    assert [g.goal for g in split.goals] == ["~(p /\\ q) ==> ~p \\/ ~q", "~p \\/ ~q ==> ~(p /\\ q)"]
    assert "`~(p /\\ q) ==> ~p \\/ ~q`" in split.goals[0].text  # HOL Light's own printing
    stripped = sessions.step(sid, "DISCH_TAC")
    assert stripped.ok and [h.term for h in stripped.goals[0].hyps] == ["~(p /\\ q)"]
    assert "0 [`~(p /\\ q)`]" in stripped.goals[0].text
    assert sessions.step(sid, "ASM_MESON_TAC[]").ok
    last = sessions.step(sid, "MESON_TAC[]")
    assert last.solved and last.steps == 4
    assert (
        sessions.script(sid) == "(REPEAT GEN_TAC THEN EQ_TAC) THENL [(DISCH_TAC) THEN (ASM_MESON_TAC[]); MESON_TAC[]]"
    )
    checked = sessions.check(sid)
    assert checked.verdict.status is Status.PASS and checked.verdict.checker is not None
    # The session is advice: a proof of something else is judged by the check, not by the session.
    assert sessions.check(sid, "ARITH_TAC").verdict.status is Status.FAIL


def test_a_failing_or_forbidden_step_leaves_the_state_as_it_was(sessions: ProofSessions, core_suite: Suite) -> None:
    sid = _open(sessions, core_suite.problem("contrapositive"))
    assert sessions.step(sid, "REPEAT STRIP_TAC").ok
    before = sessions.goals(sid)
    failed = sessions.step(sid, "ARITH_TAC")
    assert (failed.ok, failed.status, failed.reason) == (False, "FAIL", "tactic-failed")
    assert "linear_ineqs" in failed.messages[0]
    forbidden = sessions.step(sid, "CHEAT_TAC")
    assert (forbidden.status, forbidden.reason) == ("CHEATING", "forbidden-construct")
    broken = sessions.step(sid, 'ALL_TAC) ;; print_string "x" ;; (ALL_TAC')
    assert not broken.ok and broken.status in {"CHEATING", "FAIL"}
    uncompiled = sessions.step(sid, "NO_SUCH_TAC")
    assert (uncompiled.status, uncompiled.reason) == ("FAIL", "compile-error") and "NO_SUCH_TAC" in uncompiled.messages[
        0
    ]
    assert sessions.goals(sid) == before and [s.tactic for s in sessions.steps(sid)] == ["REPEAT STRIP_TAC"]
    assert sessions.step(sid, "ASM_MESON_TAC[]").solved


def test_a_step_that_times_out_leaves_the_state_and_the_checker_serves_on(
    sessions: ProofSessions, core_suite: Suite, engine: Engine
) -> None:
    problem = core_suite.problem("add_comm")
    sid = _open(sessions, problem, timeout_s=2)
    spun = sessions.step(sid, "let rec spin x = try spin (x + 1) with _ -> spin x in spin 0")
    assert (spun.status, spun.reason) in {("TIMEOUT", "wall-timeout"), ("TIMEOUT", "cpu-timeout")}, spun
    assert 1.9 <= spun.seconds < 15
    assert sessions.goals(sid).goals[0].goal == "forall m n. m + n = n + m"
    assert sessions.step(sid, "ARITH_TAC").solved
    assert engine.check(problem, "ARITH_TAC").verdict.status is Status.PASS


def test_undo_goes_back_one_step_and_not_past_the_goal(sessions: ProofSessions, core_suite: Suite) -> None:
    sid = _open(sessions, core_suite.problem("contrapositive"))
    start = sessions.goals(sid)
    assert (sessions.undo(sid).ok, sessions.undo(sid).reason) == (False, "nothing-to-undo")
    sessions.step(sid, "REPEAT GEN_TAC")
    stripped = sessions.step(sid, "REPEAT STRIP_TAC")
    back = sessions.undo(sid)
    assert back.ok and back.steps == 1 and back.goals != stripped.goals
    assert sessions.undo(sid).goals == start.goals and sessions.steps(sid) == []
    assert sessions.step(sid, "MESON_TAC[]").solved and sessions.script(sid) == "MESON_TAC[]"


def test_search_finds_theorems_by_name_and_by_pattern(sessions: ProofSessions, core_suite: Suite) -> None:
    sid = _open(sessions, core_suite.problem("add_comm"))
    by_name = sessions.search(sid, "name", "ADD_SY")
    names = {h.name: h.statement for h in by_name.hits}
    assert names["ADD_SYM"] == "forall m n. m + n = n + m" and all("ADD_SY" in n for n in names)
    by_term = sessions.search(sid, "term", "m + n = n + m")
    assert "ADD_SYM" in {h.name for h in by_term.hits}
    many = sessions.search(sid, "name", "ADD")
    assert len(many.hits) == 50 and many.more > 0
    bad = sessions.search(sid, "term", "m + + n")
    assert not bad.ok and bad.messages
    assert sessions.goals(sid).ok  # a search changes nothing


def test_many_sessions_on_one_checker_each_keep_their_own_state(sessions: ProofSessions, core_suite: Suite) -> None:
    ids = {pid: _open(sessions, core_suite.problem(pid)) for pid in ("contrapositive", "add_comm", "peirce", "drinker")}
    sessions.step(ids["contrapositive"], "REPEAT STRIP_TAC")
    sessions.step(ids["peirce"], "REPEAT GEN_TAC")
    assert sessions.goals(ids["add_comm"]).goals[0].goal == "forall m n. m + n = n + m"
    assert [h.term for h in sessions.goals(ids["contrapositive"]).goals[0].hyps] == ["p ==> q", "~q", "p"]
    sessions.close(ids["peirce"])
    with pytest.raises(UserError, match="no open proof session"):
        sessions.goals(ids["peirce"])
    assert sessions.step(ids["drinker"], "MESON_TAC[]").solved and len(sessions) == 3


def test_sessions_are_bounded_and_expire_when_idle(engine: Engine, core_suite: Suite) -> None:
    now = [0.0]
    sessions = ProofSessions(engine, limit=2, idle_s=60, clock=lambda: now[0])
    try:
        first = _open(sessions, core_suite.problem("add_comm"))
        _open(sessions, core_suite.problem("peirce"))
        with pytest.raises(UserError, match="2 proof sessions are open"):
            sessions.open(core_suite.problem("drinker"))
        now[0] = 61.0
        assert len(sessions.close_idle()) == 2 and len(sessions) == 0
        with pytest.raises(UserError, match="no open proof session"):
            sessions.step(first, "ARITH_TAC")
        assert sessions.open(core_suite.problem("drinker"))[0] is not None
    finally:
        sessions.close_all()


def test_a_goal_that_does_not_parse_opens_no_session(sessions: ProofSessions, core_suite: Suite) -> None:
    broken = core_suite.problem("add_comm").model_copy(update={"statement": "m + + n"})
    sid, why = sessions.open(broken)
    assert sid is None and (why.status, why.reason) == ("ERROR", "bad-goal") and len(sessions) == 0


def test_a_session_whose_checker_is_killed_is_gone_and_nothing_else(settings: Settings, core_suite: Suite) -> None:
    own = settings.model_copy(update={"checkers": 1})
    with Engine(own, make_hol_light_group_verifier) as engine:
        sessions = ProofSessions(engine)
        sid = _open(sessions, core_suite.problem("contrapositive"))
        other = _open(sessions, core_suite.problem("add_comm"))
        verifier = engine.loaded_verifier(core_suite.problem("add_comm"))
        assert isinstance(verifier, HolLightVerifier)
        (container,) = verifier.checker_names
        subprocess.run(["docker", "kill", container], check=True, capture_output=True, timeout=60)
        with pytest.raises(VerifierUnavailable, match=f"proof session {sid} ended"):
            sessions.step(sid, "REPEAT STRIP_TAC")
        with pytest.raises(UserError, match="no open proof session"):
            sessions.goals(sid)
        assert engine.check(core_suite.problem("add_comm"), "ARITH_TAC").verdict.status is Status.PASS
        with pytest.raises(VerifierUnavailable):  # it lived in the same checker
            sessions.goals(other)
        assert len(sessions) == 0 and _open(sessions, core_suite.problem("add_comm"))


def test_the_script_of_steps_follows_the_goals_each_step_left() -> None:
    steps = [Step("A", 1, 3), Step("B", 3, 2), Step("C", 2, 2), Step("D", 2, 1), Step("E", 1, 0)]
    assert proof_script(steps) == "(A) THENL [B; (C) THEN (D); E]"
    assert proof_script(steps[:-1]) is None and proof_script([]) is None


def test_a_checker_holds_a_bounded_number_of_session_states(
    sessions: ProofSessions, core_suite: Suite, settings: Settings, engine: Engine
) -> None:
    budget = max(8, settings.pids_limit // 2)  # each state is a process of the checker's container
    sid = _open(sessions, core_suite.problem("add_comm"))
    for _ in range(budget + 5):
        outcome = sessions.step(sid, "ALL_TAC")
        if not outcome.ok:
            break
    assert (outcome.status, outcome.reason) == ("ERROR", "too-many-states") and outcome.steps == budget - 1
    assert sessions.undo(sid).ok and sessions.step(sid, "ALL_TAC").ok  # room again, one state at a time
    assert engine.check(core_suite.problem("add_comm"), "ARITH_TAC").verdict.status is Status.PASS
    sessions.close(sid)
    assert sessions.step(_open(sessions, core_suite.problem("peirce")), "MESON_TAC[]").solved
