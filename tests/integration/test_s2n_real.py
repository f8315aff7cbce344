"""s2n-bignum itself, on the hol-light-s2n checker: runs where an s2n-bignum checkout is named.

PROVEBENCH_S2N_BIGNUM_SRC must name a git checkout of s2n-bignum (for example
one brought here with the search tool's fetch; never committed). The image is
built from it (about a minute), and the checker loads arm/proofs/base.ml with
every proof admitted before the first check (minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench import containers
from provebench.checking.engine import Engine
from provebench.containers import sources
from provebench.containers.engine import DockerEngine
from provebench.core.model import Reason, Status
from provebench.core.settings import CheckerBuild, Settings
from provebench.suites.load import Suite, load_suite
from provebench.suites.s2n_source import import_source
from provebench.systems.hol_light.goal import computed_goal
from provebench.systems.hol_light.verifier import HolLightVerifier

SRC = os.environ.get("PROVEBENCH_S2N_BIGNUM_SRC")
pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.s2n,
    pytest.mark.timeout(3600),  # builds an image and loads s2n-bignum's base.ml (minutes)
    pytest.mark.skipif(
        not SRC or not Path(SRC, "arm", "proofs", "base.ml").is_file(),
        reason="PROVEBENCH_S2N_BIGNUM_SRC does not name an s2n-bignum checkout",
    ),
]

THEOREM = "arm.bignum_add.BIGNUM_ADD_CORRECT"


@pytest.fixture(scope="module")
def s2n_suite(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Suite:
    source = sources.SourceTree.from_checkout("s2n-bignum", Path(str(SRC)))
    engine = DockerEngine(settings)
    r = containers.recipe("hol-light-s2n")
    if engine.find_image(r, source.revision) is None:
        engine.build_image(r, lambda _line: None, source)
    out = tmp_path_factory.mktemp("s2n") / "suite"
    import_source(Path(str(SRC)), out, arches=("arm",), functions=("bignum_add",))
    return load_suite(out)


@pytest.fixture(scope="module")
def pool(s2n_suite: Suite, settings: Settings) -> Iterator[Engine]:
    pool = Engine(settings.model_copy(update={"memory_mb": 6144, "load_timeout_s": 1800}))
    pool.plan([s2n_suite.problem(THEOREM)])
    yield pool
    pool.close()


def test_the_reference_proof_passes_and_cheats_do_not(pool: Engine, s2n_suite: Suite) -> None:
    problem = s2n_suite.problem(THEOREM)
    assert problem.category == "functional_correctness_arm"
    items = [
        (problem, problem.reference_proof or ""),
        (problem, "ARM_SIM_TAC BIGNUM_ADD_EXEC (1--4)"),  # not a proof of it
        (problem, "CHEAT_TAC"),
        (problem, "ACCEPT_TAC(mk_thm([], `" + problem.statement + "`))"),
    ]
    got = [(v.status, v.reason) for v in pool.map(items, None, 1)]
    assert got[0] == (Status.PASS, Reason.PROVED)
    assert got[1][0] is Status.FAIL
    assert got[2:] == [(Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)] * 2


def test_the_benchmark_harness_holes_do_not_pass_here(pool: Engine, s2n_suite: Suite) -> None:
    """The three holes measured in s2n-bignum-bench's own harness, against a real s2n-bignum context."""
    problem = s2n_suite.problem(THEOREM)
    forged = f"let th : thm = Obj.magic ([], `{problem.statement}`) in ACCEPT_TAC th"
    verdict_file = 'let oc = open_out "verdict.txt" in let () = output_string oc "OK" in let () = exit 0 in ALL_TAC'
    spin = "let rec spin x = try spin (x + 1) with _ -> spin x in spin 0"
    got = [(v.status, v.reason) for v in pool.map([(problem, forged), (problem, verdict_file)], None, 1)]
    assert got == [(Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)] * 2
    verifier = pool.loaded_verifier(problem)
    assert isinstance(verifier, HolLightVerifier)
    # Past static vetting, the checker itself: exiting is no verdict, and the kill lands through `with _ ->`.
    exited = verifier.check_unvetted_for_tests(problem, 'let () = print_string "OK" in let () = exit 0 in ALL_TAC')
    assert exited.status is Status.FAIL and exited.reason is Reason.NO_RESULT
    looped = verifier.check(problem, spin, timeout_s=5)
    assert looped.status is Status.TIMEOUT
    assert verifier.check(problem, problem.reference_proof or "").status is Status.PASS


def _ensure_built(settings: Settings, build: CheckerBuild) -> None:
    source = sources.SourceTree.from_checkout("s2n-bignum", Path(str(SRC)))
    engine = DockerEngine(settings)
    r = containers.recipe(containers.image_for_build("hol-light-s2n", build.value))
    if engine.find_image(r, source.revision) is None:
        engine.build_image(r, lambda _line: None, source)


def test_the_native_checker_gives_the_same_verdicts(s2n_suite: Suite, settings: Settings) -> None:
    """hol-light-s2n-native against the bytecode checker: reference proofs, a wrong proof, a cheat, a loop."""
    _ensure_built(settings, CheckerBuild.NATIVE)
    problem = s2n_suite.problem(THEOREM)
    others = [p for p in s2n_suite.problems if p.reference_proof and p.id != THEOREM][:3]
    spin = "let rec spin x = try spin (x + 1) with _ -> spin x in spin 0"
    items = [
        *[(p, p.reference_proof or "") for p in [problem, *others]],
        (problem, "ARM_SIM_TAC BIGNUM_ADD_EXEC (1--4)"),
        (problem, "CHEAT_TAC"),
        (problem, spin),
    ]
    limits: list[float | None] = [None] * (len(items) - 1) + [5.0]  # the loop's own short limit
    verdicts = {}
    for build in (CheckerBuild.BYTECODE, CheckerBuild.NATIVE):
        update = {"memory_mb": 6144, "load_timeout_s": 1800, "checker_build": build}
        each = Engine(settings.model_copy(update=update))
        try:
            each.plan([p for p, _ in items])  # every template position is known before the walk
            verdicts[build] = [c.verdict for c in each.map_checked(items, None, 1, timeouts=limits)]
        finally:
            each.close()
    got = [(v.status, v.reason) for v in verdicts[CheckerBuild.NATIVE]]
    expected = [(v.status, v.reason) for v in verdicts[CheckerBuild.BYTECODE]]
    assert got == expected
    assert expected[: 1 + len(others)] == [(Status.PASS, Reason.PROVED)] * (1 + len(others))
    assert expected[-1][0] is Status.TIMEOUT and expected[-2] == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)
    assert {v.checker.recipe.split(":")[0] for v in verdicts[CheckerBuild.NATIVE] if v.checker} == {
        "hol-light-s2n-native"
    }


def test_a_compiled_context_gives_the_verdicts_of_its_text(s2n_suite: Suite, settings: Settings) -> None:
    """bignum_add's own problems on the native checker, which loads base.ml compiled at image build.

    The same verdicts as the bytecode checker walking base.ml's text, and base.ml's theorems hidden
    alike where one is the goal (a problem's duplicate-location hole).
    """
    _ensure_built(settings, CheckerBuild.NATIVE)
    problem = s2n_suite.problem(THEOREM)
    own = [p for p in s2n_suite.problems if p.id.startswith("arm.bignum_add.") and p.reference_proof][:3]
    earlier = s2n_suite.problem("common.overlap.NONOVERLAPPING_MODULO_SETWISE")  # proved in base.ml
    # At bignum_add's own position, a goal base.ml has proved: naming that theorem is no proof.
    duplicate = problem.model_copy(update={"statement": earlier.statement})
    items = [
        *[(p, p.reference_proof or "") for p in own],
        (duplicate, "ACCEPT_TAC NONOVERLAPPING_MODULO_SETWISE"),
        (duplicate, earlier.reference_proof or ""),
        (problem, "ARM_SIM_TAC BIGNUM_ADD_EXEC (1--4)"),
    ]
    verdicts = {}
    for build in (CheckerBuild.BYTECODE, CheckerBuild.NATIVE):
        each = Engine(settings.model_copy(update={"memory_mb": 6144, "load_timeout_s": 1800, "checker_build": build}))
        try:
            each.plan([p for p, _ in items])  # none inside base.ml: the native checker loads it compiled
            verifier = each.loaded_verifier(problem)
            assert isinstance(verifier, HolLightVerifier)
            first_line = verifier.template_route(problem).text_of.lines[0]
            assert first_line.startswith("#pb_context") == (build is CheckerBuild.NATIVE), first_line
            verdicts[build] = [(v.status, v.reason) for v in each.map(items, None, 1)]
        finally:
            each.close()
    assert verdicts[CheckerBuild.NATIVE] == verdicts[CheckerBuild.BYTECODE]
    got = verdicts[CheckerBuild.NATIVE]
    assert got[: len(own)] == [(Status.PASS, Reason.PROVED)] * len(own)
    assert got[len(own)] == (Status.FAIL, Reason.COMPILE_ERROR)
    assert got[len(own) + 1] == (Status.PASS, Reason.PROVED)  # the goal itself is provable from there
    assert got[-1][0] is Status.FAIL


def test_the_image_builds_from_url_at_commit(s2n_suite: Suite, settings: Settings) -> None:
    from provebench.cli.main import main

    source = sources.SourceTree.from_checkout("s2n-bignum", Path(str(SRC)))
    # The checkout as the URL: the same commit gives the same image, already built by the fixture above.
    assert main(["images", "build", "hol-light-s2n", "--s2n-bignum", f"{SRC}@{source.revision}"]) == 0
    engine = DockerEngine(settings)
    assert engine.find_image(containers.recipe("hol-light-s2n"), source.revision) is not None


def test_a_rebuild_keeps_the_tag_and_compiles_the_same_contexts(settings: Settings) -> None:
    from provebench.cli.main import main

    _ensure_built(settings, CheckerBuild.NATIVE)
    engine = DockerEngine(settings)
    r, revision = (
        containers.recipe("hol-light-s2n-native"),
        sources.SourceTree.from_checkout("s2n-bignum", Path(str(SRC))).revision,
    )
    before = engine.find_image(r, revision)
    assert main(["images", "build", "hol-light-s2n-native", "--rebuild", "--s2n-bignum-src", str(SRC)]) == 0
    after = engine.find_image(r, revision)
    assert before is not None and after is not None and after.tag == before.tag
    assert after.contexts == before.contexts and after.contexts.startswith("s2n_arm ")


COMPUTED = "x86.mlkem_rej_uniform_VARIABLE_TIME.lemma1a"


@pytest.fixture(scope="module")
def computed_suite(s2n_suite: Suite, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    """A proof file whose goals the benchmark computes at run time: ``(rand o concl o CONV) `...```."""
    out = tmp_path_factory.mktemp("s2n-computed") / "suite"
    import_source(Path(str(SRC)), out, arches=("x86",), functions=("mlkem_rej_uniform_VARIABLE_TIME",))
    return load_suite(out)


@pytest.mark.parametrize("build", [CheckerBuild.BYTECODE, CheckerBuild.NATIVE])
def test_a_goal_computed_at_run_time_is_checked_against_the_computed_term(
    computed_suite: Suite, settings: Settings, build: CheckerBuild
) -> None:
    problem = computed_suite.problem(COMPUTED)
    assert computed_goal(problem) and problem.statement.startswith("(rand o concl o")
    _ensure_built(settings, build)
    update = {"memory_mb": 6144, "load_timeout_s": 1800, "checker_build": build}
    pool = Engine(settings.model_copy(update=update))
    try:
        pool.plan([problem])
        items = [
            (problem, problem.reference_proof or ""),
            (problem, "ALL_TAC"),
            (problem, "ACCEPT_TAC(mk_thm([], `T`))"),
        ]
        passed, left, cheat = pool.map(items, None, 1)
    finally:
        pool.close()
    assert (passed.status, passed.reason) == (Status.PASS, Reason.PROVED), passed.messages
    # The verdict records the goal the checker computed: the cases expanded, no conversion left.
    assert passed.computed_goal is not None and "word_subword" in passed.computed_goal
    assert "rand" not in passed.computed_goal and "!i" not in passed.computed_goal
    assert (left.status, left.reason) == (Status.FAIL, Reason.UNSOLVED_GOALS)
    assert (cheat.status, cheat.reason) == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)
