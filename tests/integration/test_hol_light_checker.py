"""The HOL Light checkers, for real: HOL Light in a sandboxed container, bytecode and native (each_hol_verifier)."""

from __future__ import annotations

import time

import pytest

from provebench.core.model import Reason, Status, System
from provebench.core.settings import Settings
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_every_reference_proof_passes(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    failures = {}
    for p in core_suite.problems:
        assert p.reference_proof
        v = each_hol_verifier.check(p, p.reference_proof)
        if v.status is not Status.PASS:
            failures[p.id] = (v.status, v.reason, v.messages)
    assert failures == {}


def test_verdict_names_the_pinned_checker(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    v = each_hol_verifier.check(core_suite.problem("add_comm"), "ARITH_TAC")
    assert v.status is Status.PASS and v.reason is Reason.PROVED
    assert v.checker is not None
    assert v.checker.system is System.HOL_LIGHT
    assert v.checker.digest.startswith("sha256:")
    assert v.checker.version.startswith("1:3.1.0+git20260619")
    assert v.checker.recipe.split(":")[0] == ("hol-light-native" if "native" in v.checker.image else "hol-light")
    assert 0 < v.check_seconds < 5


def test_wrong_proofs_fail_with_hol_lights_message(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    add_comm = core_suite.problem("add_comm")
    v = each_hol_verifier.check(add_comm, "REWRITE_TAC[]")
    assert (v.status, v.reason) == (Status.FAIL, Reason.UNSOLVED_GOALS)
    assert "m + n = n + m" in v.messages[0]
    v = each_hol_verifier.check(core_suite.problem("le_square"), "ARITH_TAC")
    assert (v.status, v.reason) == (Status.FAIL, Reason.TACTIC_FAILED)
    assert v.messages[0].startswith("Failure:")
    v = each_hol_verifier.check(add_comm, "ARITH_TAC THEN\n  NO_SUCH_TACTIC")
    assert (v.status, v.reason) == (Status.FAIL, Reason.COMPILE_ERROR)
    assert "Unbound value NO_SUCH_TACTIC" in "\n".join(v.messages)
    assert 'File "proof", line 2, characters 2-16' in v.messages[0]  # lines and columns of the proof as sent
    v = each_hol_verifier.check(add_comm, "ARITH_TAC THEN\n\n  REWRITE_TAC[] THEN THEN ALL_TAC")
    assert (v.status, v.reason) == (Status.FAIL, Reason.COMPILE_ERROR)
    assert 'File "proof", line 3' in v.messages[0], v.messages  # a parse error, as the parser counts


def test_a_proof_that_prints_much_and_proves_passes(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    """As s2n-bignum's long proofs, which print progress lines well past 64 KB; the verdict keeps the start only."""
    v = each_hol_verifier.check(core_suite.problem("add_comm"), "EVERY (replicate (time ALL_TAC) 5000) THEN ARITH_TAC")
    assert (v.status, v.reason) == (Status.PASS, Reason.PROVED), v.messages
    printed = "\n".join(v.messages)
    assert printed.startswith("CPU time (user):") and len(printed) < 4200
    assert printed.endswith("(printing cut: a PASS keeps its first 4096 characters)")


def test_a_proof_may_bind_names_of_refused_families(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    """As s2n-bignum's proofs do (`let new_facts = ...`); the shield around it must still compile and prove."""
    add_comm = core_suite.problem("add_comm")
    v = each_hol_verifier.check(add_comm, "let new_facts = [ADD_SYM] in\nMATCH_ACCEPT_TAC (hd new_facts)")
    assert (v.status, v.reason) == (Status.PASS, Reason.PROVED), v.messages
    # The shield does not move an error's line: it is where it is without one, the proof's second.
    shielded = each_hol_verifier.check(add_comm, "let new_facts = [ADD_SYM] in\nMATCH_ACCEPT_TAC (hd no_such_facts)")
    plain = each_hol_verifier.check(add_comm, "let facts = [ADD_SYM] in\nMATCH_ACCEPT_TAC (hd no_such_facts)")
    assert (shielded.status, shielded.reason) == (plain.status, plain.reason) == (Status.FAIL, Reason.COMPILE_ERROR)
    assert shielded.messages[0].splitlines()[0] == plain.messages[0].splitlines()[0], shielded.messages
    assert plain.messages[0].startswith('File "proof", line 2,'), plain.messages


def test_proof_of_another_statement_is_cheating(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    v = each_hol_verifier.check(core_suite.problem("add_comm"), "fun g -> (([], null_inst), [], fun _ _ -> MULT_SYM)")
    assert (v.status, v.reason) == (Status.CHEATING, Reason.STATEMENT_MISMATCH)


def test_the_proofs_own_time_is_told_apart_from_the_checks(
    each_hol_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    """What the benchmark's reference times measure: the tactic built and run, not the compiling before it."""
    p = core_suite.problem("add_comm")
    burn = "fun g -> let rec spin n = if n = 0 then ARITH_TAC g else spin (n - 1) in spin 300_000_000"
    v = each_hol_verifier.check(p, burn)
    assert v.status is Status.PASS and v.proof_seconds is not None
    assert 0.05 < v.proof_seconds <= v.cpu_seconds + 0.02  # the child's CPU clock against its parent's ticks
    v = each_hol_verifier.check(p, "REWRITE_TAC[]")
    assert v.status is Status.FAIL and v.proof_seconds is not None and v.proof_seconds < 0.05
    v = each_hol_verifier.check(p, "NO_SUCH_TACTIC")
    assert v.reason is Reason.COMPILE_ERROR and v.proof_seconds is None  # it never ran


def test_timeout_is_enforced_and_checker_survives(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    p = core_suite.problem("add_comm")
    t0 = time.monotonic()
    v = each_hol_verifier.check(p, "let rec spin x = try spin (x + 1) with _ -> spin x in spin 0", timeout_s=2)
    elapsed = time.monotonic() - t0
    # A spin uses CPU as fast as wall time: whichever limit lands first, it is a limit, after about 2 s.
    assert v.status is Status.TIMEOUT and v.reason in {Reason.WALL_TIMEOUT, Reason.CPU_TIMEOUT}, v
    # Margin: with two checkers loading HOL Light beside this one on two cores the kill comes late by
    # seconds, never by the 15 s allowed here; without a limit the spin would run until the test's deadline.
    assert v.check_seconds >= 1.9 and elapsed < 2 + 15
    assert each_hol_verifier.check(p, "ARITH_TAC").status is Status.PASS
    # A proof that sleeps uses no CPU: only the wall limit can stop it.
    v = each_hol_verifier.check_unvetted_for_tests(p, "let () = Unix.sleep 60 in ARITH_TAC", timeout_s=2)
    assert (v.status, v.reason) == (Status.TIMEOUT, Reason.WALL_TIMEOUT), v
    assert each_hol_verifier.check(p, "ARITH_TAC").status is Status.PASS


def test_checks_do_not_leak_state(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    """A check's effects stay in its forked child: a later check sees the pristine toplevel."""
    p = core_suite.problem("add_comm")
    # Allowed local definitions and failing proofs leave nothing behind for the next check.
    assert each_hol_verifier.check(p, "let helper = ARITH_TAC in helper").status is Status.PASS
    v = each_hol_verifier.check(p, "helper")
    assert (v.status, v.reason) == (Status.FAIL, Reason.COMPILE_ERROR)
    assert each_hol_verifier.check(p, "ARITH_TAC").status is Status.PASS


def test_bad_goal_is_reported(each_hol_verifier: HolLightVerifier) -> None:
    from provebench.suites.check_requests import adhoc_problem

    v = each_hol_verifier.check(adhoc_problem(System.HOL_LIGHT, "!n. n + ", 5), "ARITH_TAC")
    assert (v.status, v.reason) == (Status.ERROR, Reason.BAD_GOAL)
    v = each_hol_verifier.check(adhoc_problem(System.HOL_LIGHT, "`!n. n + 0 = n`", 5), "ARITH_TAC")
    assert v.status is Status.PASS


def test_async_checks_share_the_pool(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    import asyncio

    async def many() -> list[Status]:
        jobs = [asyncio.to_thread(each_hol_verifier.check, p, p.reference_proof or "") for p in core_suite.problems[:8]]
        return [v.status for v in await asyncio.gather(*jobs)]

    assert asyncio.run(many()) == [Status.PASS] * 8


def test_a_check_killed_by_its_containers_memory_limit_is_an_error_not_a_fail(
    settings: Settings, core_suite: Suite
) -> None:
    """A container too small for the toplevel and a check is the checker's fault, never the proof's verdict."""
    from provebench import containers
    from provebench.containers.engine import DockerEngine
    from provebench.core.model import CheckerInfo
    from provebench.systems.hol_light.launchers import DockerLauncher

    engine = DockerEngine(settings)
    built = engine.ensure_image(containers.recipe("hol-light"), lambda _line: None)
    # The container (1 GB) is smaller than one check's own limit (4 GB): a check of 700 MB fills it.
    launcher = DockerLauncher(engine, built, containers.SandboxLimits(memory_mb=1024, pids=settings.pids_limit))
    info = CheckerInfo(image=built.tag, digest=built.digest, system=System.HOL_LIGHT, version=built.version)
    verifier = HolLightVerifier(launcher, info, memory_mb=4096)
    try:
        add_comm = core_suite.problem("add_comm")
        big = "let s = String.make 700000000 'x' in if String.length s > 1 then ARITH_TAC else ALL_TAC"
        v = verifier.check(add_comm, big)
        assert (v.status, v.reason) == (Status.ERROR, Reason.CHECKER_OUT_OF_MEMORY), v.messages
        assert "ran out of memory" in v.messages[0] and "PROVEBENCH_CONTAINER_HEADROOM_MB" in v.messages[0]
        # A check killed by SIGKILL with the container's memory to spare is still the proof's FAIL.
        suicide = "let () = Unix.kill (Unix.getpid ()) Sys.sigkill in ARITH_TAC"
        v = verifier.check_unvetted_for_tests(add_comm, suicide)
        assert (v.status, v.reason) == (Status.FAIL, Reason.CRASHED) and "SIGKILL" in v.messages[0]
        assert verifier.check(add_comm, "ARITH_TAC").status is Status.PASS  # the checker lives on
    finally:
        verifier.close()


def test_a_check_is_the_kernels_first_choice_when_its_container_runs_out_of_memory(
    each_hol_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    """The check, not the loaded toplevel above it, is what an out-of-memory container loses."""
    read_adj = (
        'let ic = open_in "/proc/self/oom_score_adj" in let adj = input_line ic in close_in ic; '
        'if adj = "1000" then ARITH_TAC else failwith ("oom_score_adj " ^ adj)'
    )
    v = each_hol_verifier.check_unvetted_for_tests(core_suite.problem("add_comm"), read_adj)
    assert v.status is Status.PASS, v.messages


def test_a_reply_longer_than_one_read_comes_through(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    """A proof that prints a lot (s2n-bignum's symbolic simulation does) makes a long reply, read whole."""
    chatty = "let () = print_string (String.make 60000 'x') in ARITH_TAC"  # under the 64 KB output cap
    v = each_hol_verifier.check_unvetted_for_tests(core_suite.problem("add_comm"), chatty)
    assert v.status is Status.PASS, v.messages


def test_fewer_checkers_than_asked_are_named(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from provebench.systems.hol_light.verifier import make_hol_light_verifier

    small = settings.model_copy(update={"checkers": 4, "memory_budget_mb": 9000, "container_headroom_mb": 2048})
    with caplog.at_level(logging.INFO, logger="provebench.checkers"):
        verifier = make_hol_light_verifier(small)  # not prepared: no container starts
    verifier.close()
    assert "2 of the 4 checkers asked for fit the memory budget (9000 MB; each checker's container takes 4096 MB)" in [
        r.getMessage() for r in caplog.records
    ]
