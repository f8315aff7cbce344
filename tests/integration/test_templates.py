"""Template contexts on the real checker: one walk through a template, a holder per problem position.

The template is HOL Light core text written here in the shape of s2n-bignum's
(theorems proved with earlier ones, earlier proofs admitted with CHEAT_TAC).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from provebench.checking.engine import Engine
from provebench.checking.proof_sessions import ProofSessions
from provebench.core.model import Reason, Status
from provebench.core.settings import CheckerBuild, Settings
from provebench.suites.load import Suite, load_suite

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TEMPLATE = """(* A template in the shape of s2n-bignum's: definitions, then theorems built on earlier ones. *)
let ADD_0_LEMMA = prove(`!n. n + 0 = n`, CHEAT_TAC);;

let DBL = new_definition `DBL n = n + n`;;

let DBL_EQ = prove
 (`!n. DBL n = 2 * n`,
  CHEAT_TAC);;

let DBL_ADD = prove(`!m n. DBL (m + n) = DBL m + DBL n`, CHEAT_TAC);;

let DBL_TWICE = prove(`!k. DBL k = k * 2`, CHEAT_TAC);;

let DBL_EQ_AGAIN = prove(`!x. DBL x = 2 * x`, CHEAT_TAC);;
"""


def _line(name: str) -> int:
    return next(i for i, line in enumerate(TEMPLATE.split("\n"), 1) if line.startswith(f"let {name} ="))


@pytest.fixture(scope="module")
def template_suite(tmp_path_factory: pytest.TempPathFactory) -> Suite:
    root = tmp_path_factory.mktemp("suite")
    (root / "templates").mkdir()
    (root / "templates" / "dbl.ml").write_text(TEMPLATE)
    manifest = "name: template-test\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"
    (root / "suite.yaml").write_text(manifest + "problems_file: problems.jsonl\n")
    problems = [
        {"id": "dbl_eq", "statement": "!n. DBL n = 2 * n", "template_line": _line("DBL_EQ")},
        {"id": "dbl_add", "statement": "!m n. DBL (m + n) = DBL m + DBL n", "template_line": _line("DBL_ADD")},
        {"id": "add_0", "statement": "!n. n + 0 = n", "template_line": _line("ADD_0_LEMMA")},
        # the same theorem again, after DBL_EQ was admitted (s2n-bignum's duplicate locations)
        {"id": "dbl_eq_again", "statement": "!x. DBL x = 2 * x", "template_line": _line("DBL_EQ_AGAIN")},
    ]
    with (root / "problems.jsonl").open("w") as f:
        for p in problems:
            f.write(json.dumps({**p, "template": "templates/dbl.ml", "timeout_s": 10}) + "\n")
    return load_suite(root)


@pytest.fixture(scope="module", params=[CheckerBuild.BYTECODE, CheckerBuild.NATIVE], ids=lambda b: b.value)
def pool(settings: Settings, template_suite: Suite, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Checkers walking the template, in each build."""
    pool = Engine(settings.model_copy(update={"checker_build": request.param}))
    pool.plan(template_suite.problems)
    yield pool
    pool.close()


def _check(pool: Engine, suite: Suite, items: list[tuple[str, str]]) -> list[tuple[Status, Reason]]:
    pairs = [(suite.problem(pid), proof) for pid, proof in items]
    return [(v.status, v.reason) for v in pool.map(pairs, None, 1)]


def test_each_problem_sees_exactly_the_context_before_it(pool: Engine, template_suite: Suite) -> None:
    got = _check(
        pool,
        template_suite,
        [
            ("dbl_eq", "REWRITE_TAC[DBL] THEN ARITH_TAC"),  # DBL is defined before DBL_EQ
            ("dbl_add", "REWRITE_TAC[DBL_EQ] THEN ARITH_TAC"),  # the admitted DBL_EQ is usable later
            ("dbl_eq", "REWRITE_TAC[DBL_EQ]"),  # ... but not by itself: DBL_EQ is not bound yet at its own line
            ("add_0", "REWRITE_TAC[DBL] THEN ARITH_TAC"),  # nothing of the template is bound at its first theorem
            ("add_0", "ACCEPT_TAC ADD_0_LEMMA"),  # nor the theorem itself
            ("add_0", "ARITH_TAC"),
            ("dbl_add", "CHEAT_TAC"),
        ],
    )
    assert got == [
        (Status.PASS, Reason.PROVED),
        (Status.PASS, Reason.PROVED),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.PASS, Reason.PROVED),
        (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT),
    ]


def test_attempts_are_isolated_and_limits_hold_from_a_holder(pool: Engine, template_suite: Suite) -> None:
    got = _check(
        pool,
        template_suite,
        [
            ("dbl_add", "REPEAT (CONV_TAC (ONCE_DEPTH_CONV num_CONV))"),  # loops until the wall limit
            ("dbl_add", "REWRITE_TAC[DBL_EQ] THEN ARITH_TAC"),  # the holder survived the timeout
            ("dbl_eq", "REWRITE_TAC[DBL] THEN ARITH_TAC"),
        ],
    )
    assert got[0][0] is Status.TIMEOUT
    assert got[1:] == [(Status.PASS, Reason.PROVED), (Status.PASS, Reason.PROVED)]


def test_an_earlier_theorem_equal_to_the_goal_is_not_the_answer(pool: Engine, template_suite: Suite) -> None:
    got = _check(
        pool,
        template_suite,
        [
            ("dbl_eq_again", "ACCEPT_TAC DBL_EQ"),  # alpha-equivalent to the goal: not usable
            ("dbl_eq_again", "MATCH_ACCEPT_TAC DBL_EQ"),
            ("dbl_eq_again", "ACCEPT_TAC (hd (axioms ()))"),  # nor through the axiom list
            ("dbl_eq_again", "REWRITE_TAC[DBL_TWICE] THEN ARITH_TAC"),  # other earlier theorems are
            ("dbl_eq_again", "REWRITE_TAC[DBL] THEN ARITH_TAC"),
        ],
    )
    assert got == [
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT),
        (Status.PASS, Reason.PROVED),
        (Status.PASS, Reason.PROVED),
    ]


@pytest.mark.parametrize("build", [CheckerBuild.BYTECODE, CheckerBuild.NATIVE], ids=lambda b: b.value)
def test_templates_sharing_an_include_are_loaded_as_hol_light_would_by_one_checker(
    tmp_path: Path, settings: Settings, build: CheckerBuild
) -> None:
    from provebench.suites.s2n_source import import_source
    from provebench.systems.hol_light.verifier import HolLightVerifier

    checkout = tmp_path / "s2n-bignum"
    (checkout / "common").mkdir(parents=True)
    (checkout / "arm" / "proofs").mkdir(parents=True)
    (checkout / "common" / "defs.ml").write_text(
        "let TRIPLE = new_definition `TRIPLE n = 3 * n`;;\n"
        "let TRIPLE_ADD = prove(`!m n. TRIPLE (m + n) = TRIPLE m + TRIPLE n`, REWRITE_TAC[TRIPLE] THEN ARITH_TAC);;\n"
    )
    (checkout / "arm" / "generic").mkdir()
    for name in ("triple", "quad"):
        (checkout / "arm" / "generic" / f"{name}.S").write_text("")
    (checkout / "arm" / "proofs" / "triple.ml").write_text(
        'loadt "common/defs.ml";;\n\nlet TRIPLE_ZERO = prove(`TRIPLE 0 = 0`, REWRITE_TAC[TRIPLE] THEN ARITH_TAC);;\n'
    )
    (checkout / "arm" / "proofs" / "quad.ml").write_text(
        'needs "common/defs.ml";;\n\nlet QUAD = new_definition `QUAD n = 4 * n`;;\n'
        "let QUAD_TRIPLE = prove(`!n. QUAD n + TRIPLE n = 7 * n`, REWRITE_TAC[QUAD; TRIPLE] THEN ARITH_TAC);;\n"
    )
    import_source(checkout, tmp_path / "suite")
    manifest = tmp_path / "suite" / "suite.yaml"  # core HOL Light text: the core image checks it
    fields = yaml.safe_load(manifest.read_text())
    assert fields["context"] == 'Sys.chdir "/opt/s2n-bignum";;'
    manifest.write_text(yaml.safe_dump({**fields, "checker_image": "hol-light", "context": ""}))
    suite = load_suite(tmp_path / "suite")
    assert {p.id for p in suite.problems} == {
        "common.defs.TRIPLE_ADD",
        "arm.triple.TRIPLE_ZERO",
        "arm.quad.QUAD_TRIPLE",
    }
    assert len({p.template for p in suite.problems}) == 2
    pool = Engine(settings.model_copy(update={"checker_build": build}))
    pool.plan(suite.problems)
    try:
        items = [
            # TRIPLE and TRIPLE_ADD come from the included file
            ("arm.triple.TRIPLE_ZERO", "REWRITE_TAC[TRIPLE_ADD; TRIPLE] THEN ARITH_TAC"),
            ("arm.quad.QUAD_TRIPLE", "REWRITE_TAC[QUAD; TRIPLE_ADD; TRIPLE] THEN ARITH_TAC"),
            ("arm.triple.TRIPLE_ZERO", "REWRITE_TAC[QUAD]"),  # quad.ml's definition is not in triple.ml
            ("common.defs.TRIPLE_ADD", "REWRITE_TAC[TRIPLE] THEN ARITH_TAC"),
            ("arm.quad.QUAD_TRIPLE", "ACCEPT_TAC QUAD_TRIPLE"),  # not bound at its own line
            ("common.defs.TRIPLE_ADD", suite.problem("common.defs.TRIPLE_ADD").reference_proof or ""),
            ("arm.quad.QUAD_TRIPLE", "REWRITE_TAC[QUAD; TRIPLE] THEN ARITH_TAC"),
        ]
        # One at a time and in this order, so that the checker walks back and forth between the templates.
        got = [_check(pool, suite, [item])[0] for item in items]
        verifier = pool.loaded_verifier(suite.problems[0])
        assert isinstance(verifier, HolLightVerifier) and len(verifier.checker_names) == 1
    finally:
        pool.close()
    assert got == [
        (Status.PASS, Reason.PROVED),
        (Status.PASS, Reason.PROVED),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.PASS, Reason.PROVED),
        (Status.FAIL, Reason.COMPILE_ERROR),
        (Status.PASS, Reason.PROVED),
        (Status.PASS, Reason.PROVED),
    ]


def test_a_silent_load_that_computes_goes_on_and_one_that_sleeps_is_a_hung_checker(
    tmp_path: Path, settings: Settings
) -> None:
    """The silence limit applies only while the toplevel does not compute (EC libraries prove silently for long)."""
    root = tmp_path / "suite"
    (root / "templates").mkdir(parents=True)
    spin = "let SPUN = let t = Sys.time () in while Sys.time () -. t < 25.0 do () done;;\n"
    (root / "templates" / "spins.ml").write_text(spin + "let AFTER_SPIN = prove(`1 + 1 = 2`, CHEAT_TAC);;\n")
    sleep = "let SLEPT = Unix.sleep 25;;\n"
    (root / "templates" / "sleeps.ml").write_text(sleep + "let AFTER_SLEEP = prove(`2 + 2 = 4`, CHEAT_TAC);;\n")
    manifest = "name: silent-test\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"
    (root / "suite.yaml").write_text(manifest + "problems_file: problems.jsonl\n")
    rows = [  # the spinning one first (longer timeout): the sleeping one ends its checker
        {"id": "spins", "statement": "1 + 1 = 2", "template": "templates/spins.ml", "timeout_s": 20},
        {"id": "sleeps", "statement": "2 + 2 = 4", "template": "templates/sleeps.ml", "timeout_s": 10},
    ]
    (root / "problems.jsonl").write_text("".join(json.dumps({**r, "template_line": 2}) + "\n" for r in rows))
    suite = load_suite(root)
    # 8 s of silence allowed: the spinning phrase prints nothing for 25 s, loading HOL Light itself for longer.
    pool = Engine(settings.model_copy(update={"load_timeout_s": 8.0}))
    try:
        spins, sleeps = pool.map([(p, "ARITH_TAC") for p in suite.problems], None, 1)
    finally:
        pool.close()
    assert (spins.status, spins.reason) == (Status.PASS, Reason.PROVED)
    assert sleeps.status is Status.ERROR and sleeps.reason is Reason.CHECKER_UNAVAILABLE
    assert "printed nothing for 8 s, then computed little for 8 s, while loading a template" in sleeps.messages[0]


def test_a_proof_session_stands_at_its_problems_position_and_sees_no_equal_earlier_theorem(
    pool: Engine, template_suite: Suite
) -> None:
    sessions = ProofSessions(pool)
    try:
        sid, opened = sessions.open(template_suite.problem("dbl_eq_again"))
        assert sid is not None and opened.goals[0].goal == "forall x. DBL x = 2 * x"
        found = {h.name for h in sessions.search(sid, "name", "DBL").hits}
        assert {"DBL", "DBL_ADD", "DBL_TWICE"} <= found and "DBL_EQ" not in found  # hidden, as in a check
        hidden = sessions.step(sid, "ACCEPT_TAC DBL_EQ")
        assert (hidden.status, hidden.reason) == ("FAIL", "compile-error")
        assert sessions.step(sid, "REWRITE_TAC[DBL] THEN ARITH_TAC").solved
        assert sessions.check(sid).verdict.status is Status.PASS
        sid, opened = sessions.open(template_suite.problem("dbl_eq"))  # earlier in the template: no DBL_EQ yet
        assert sid is not None and "DBL_TWICE" not in {h.name for h in sessions.search(sid, "name", "DBL").hits}
    finally:
        sessions.close_all()
