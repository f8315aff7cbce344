"""Re-verification's parts as boards use them: refusal and mismatch lines, the sample's seed, resumable checks.

The checker is the scripted verifier DOUBLE behind a real ``Engine`` (this is about which attempts are checked
again and what is reported, not about judging); the end-to-end flows are in test_leaderboard_add,
test_add_reverification and test_board_maintenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from provebench.boards.reverify import (
    Hooks,
    Mismatch,
    PinRefusal,
    Result,
    check_again,
    local_checkers,
    pin_refusal,
    progress_path,
    seed_of,
)
from provebench.checking.engine import Engine
from provebench.core.journal import AttemptRecord, AttemptRecordV1, upgrade_v1
from provebench.core.model import CheckerInfo, Problem, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble
from tests.records import attempt

HOL = DOUBLE_CHECKER.model_copy(update={"recipe": "hol-light:new", "image": "ghcr.io/o/hol-light:1"})
LEAN = CheckerInfo(image="lean4", digest="sha256:l", system=System.LEAN4, version="v4", recipe="lean4:abc")
OLD_LEAN = LEAN.model_copy(update={"recipe": "", "image": "ghcr.io/o/lean-old:1"})  # pinned before recipes were kept


def _problem(pid: str, system: System = System.HOL_LIGHT) -> Problem:
    return Problem(id=pid, suite="s", system=system, statement="T", timeout_s=30.0, checker_image=system.value)


def _attempt(pid: str, status: Status, proof: str | None, sample: int = 0) -> AttemptRecord:
    return attempt(
        pid, sample, status, reason=Reason.PROVED if status is Status.PASS else Reason.TACTIC_FAILED, proof=proof
    )


@pytest.mark.parametrize(
    ("message", "shown"),
    [("", "(tactic-failed)"), ('Exception: Failure "tac"', '(tactic-failed: Exception: Failure "tac")')],
)
def test_a_mismatch_line_names_the_attempt_the_claim_and_what_the_check_gave(message: str, shown: str) -> None:
    got = Result(Status.FAIL, Reason.TACTIC_FAILED, message)
    line = Mismatch("peirce", 1, 0, Status.PASS, got).line()
    assert line == f"peirce sample 1 round 0: claimed PASS, got FAIL {shown}"


def test_the_sample_seed_is_the_bundle_hash_read_so_that_recorded_seeds_redraw_the_same_sample() -> None:
    # Board entries record this seed and audits draw their sample from it: its value must not drift.
    digest = "0123456789abcdef" + "f" * 48
    assert seed_of("sha256:" + digest) == seed_of(digest) == 0x0123456789AB
    assert seed_of("sha256:" + "0" * 11 + "1" + "f" * 52) == 1


@pytest.mark.parametrize(
    ("recipe", "image", "name"),
    [
        ("hol-light:a1378df59036", "ghcr.io/o/other:1", "hol-light"),  # the recipe names it, whatever the image
        ("hol-light", "ghcr.io/o/other:1", "hol-light"),  # a recipe written without its hash
        ("", "ghcr.io/org/hol-light:2024-01", "hol-light"),  # no recipe recorded: the image's name
        ("", "hol-light", "hol-light"),  # an image named without registry or tag
    ],
)
def test_a_checker_the_board_does_not_pin_is_refused_by_its_recipe_name(recipe: str, image: str, name: str) -> None:
    mine = HOL.model_copy(update={"recipe": recipe, "image": image})
    refusal = pin_refusal([mine], [LEAN, OLD_LEAN], "this machine's")
    line = f"this machine's {name} checker is not one the board pins (lean4:abc, ghcr.io/o/lean-old:1)"
    assert refusal == PinRefusal(line, frozenset({"recipe"}))


def test_the_pinned_checker_itself_is_not_refused() -> None:
    rebuilt = HOL.model_copy(update={"digest": "sha256:rebuilt", "image": "elsewhere"})
    assert pin_refusal([rebuilt], [LEAN, HOL], "this machine's") is None


@pytest.mark.parametrize(
    ("pins", "pinned"),
    [
        # a pin of the same recipe is compared, before one that only shares the proof system
        (
            [HOL.model_copy(update={"recipe": "other:0"}), HOL.model_copy(update={"recipe": "hol-light:old"})],
            "hol-light:old",
        ),
        # with no pin of its recipe, the pin of its proof system
        ([LEAN, HOL.model_copy(update={"recipe": "other:0"})], "other:0"),
    ],
)
def test_a_checker_is_compared_with_the_nearest_pin(pins: list[CheckerInfo], pinned: str) -> None:
    refusal = pin_refusal([HOL], pins, "this machine's")
    differs = "this machine's hol-light checker differs from the board's pin in its"
    line = f"{differs} recipe (hol-light:new here, {pinned} pinned)"
    assert refusal == PinRefusal(line, frozenset({"recipe"}))


def test_a_refusal_names_every_part_that_differs_with_where_each_value_is() -> None:
    run = HOL.model_copy(update={"packages": "sha256:1"})
    pin = HOL.model_copy(update={"recipe": "hol-light:old"})
    refusal = pin_refusal([run], [pin], "the run's", "in the run")
    assert refusal == PinRefusal(
        "the run's hol-light checker differs from the board's pin in its recipe (hol-light:new in the run, "
        "hol-light:old pinned); package list (sha256:1 in the run, sha256:0 pinned)",
        frozenset({"recipe", "package list"}),
    )


def test_an_attempt_that_recorded_no_identity_is_checked_by_nobody_s_checker() -> None:
    """A v1 record of a digest only (made before identities were kept): its run's system, no recipe, no image."""
    flat = {"problem": "peirce", "sample": 0, "round": 0, "status": "FAIL", "reason": "tactic-failed"}
    assert upgrade_v1(AttemptRecordV1.model_validate(flat), [DOUBLE_CHECKER]).verdict.checker is None  # no check
    old = AttemptRecordV1.model_validate({**flat, "checker_digest": "sha256:old"})
    identity = upgrade_v1(old, [DOUBLE_CHECKER]).verdict.checker
    assert identity is not None and not identity.same_checker(DOUBLE_CHECKER)
    assert (identity.image, identity.system, identity.digest) == ("", DOUBLE_CHECKER.system, "sha256:old")
    assert identity.identity_differences(DOUBLE_CHECKER, ("in the run", "pinned")) == [
        "recipe (not recorded in the run, double:0 pinned)",
        "proof-system version (not recorded in the run, double pinned)",
        "package list (not recorded in the run, sha256:0 pinned)",
    ]


def test_every_checker_this_machine_would_use_is_compared_with_the_pins() -> None:
    class Lean(ScriptedVerifierDouble):
        system, checker = System.LEAN4, LEAN

    def make(_settings: Settings, problems: Sequence[Problem]) -> ScriptedVerifierDouble:
        lean = any(p.system is System.LEAN4 for p in problems)
        return (Lean if lean else ScriptedVerifierDouble)(_Checks.script)  # asked for identities only, never checks

    problems = [_problem("a"), _problem("b"), _problem("c", System.LEAN4)]
    with Engine(Settings(), make=make) as engine:
        local = local_checkers(engine, problems)
    assert local == [DOUBLE_CHECKER, LEAN]  # one of each identity, in the order first met
    refusal = pin_refusal(local, [DOUBLE_CHECKER], "this machine's")
    assert refusal is not None and refusal.line.startswith("this machine's lean4 checker is not one the board pins")


def test_checks_kept_for_one_checker_are_not_taken_for_another(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path)
    here = progress_path(settings, "sha256:b", [DOUBLE_CHECKER, LEAN])
    assert here == progress_path(settings, "sha256:b", [LEAN, DOUBLE_CHECKER])
    assert here != progress_path(settings, "sha256:b", [HOL, LEAN])
    assert here != progress_path(settings, "sha256:other", [DOUBLE_CHECKER, LEAN])


class _Checks:
    """The double's script: what each proof gets, and every check it was asked for (with its time limit)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []

    def engine(self, settings: Settings) -> Engine:
        checks = self

        class Recording(ScriptedVerifierDouble):
            def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
                checks.calls.append((problem.id, proof, timeout_s or problem.timeout_s))
                return super().check(problem, proof, timeout_s)

        return Engine(settings, make=lambda _s, _p: Recording(self.script))

    @staticmethod
    def script(problem: Problem, proof: str, _call: int) -> Verdict:
        if proof == "ARITH_TAC":
            return Verdict(status=Status.PASS, reason=Reason.PROVED, checker=DOUBLE_CHECKER)
        if not proof:
            return Verdict(status=Status.FAIL, reason=Reason.NO_PROOF, messages=("no proof",), checker=DOUBLE_CHECKER)
        long = "e" * 300 + "\nsecond line"
        return Verdict(status=Status.FAIL, reason=Reason.TACTIC_FAILED, messages=(long,), checker=DOUBLE_CHECKER)


class _Progress:
    def __init__(self) -> None:
        self.status: list[str] = []
        self.checked: list[tuple[int, int]] = []

    def hooks(self) -> Hooks:
        self.status.clear()
        self.checked.clear()
        return Hooks(self.status.append, lambda done, total: self.checked.append((done, total)))


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", infra_backoff_s=0, checkers=3)


PROBLEMS = {p: _problem(p) for p in ("add", "peirce", "euclid")}
PROVED = _attempt("add", Status.PASS, "ARITH_TAC")
NO_PROOF = _attempt("peirce", Status.FAIL, None)
FAILED = _attempt("euclid", Status.FAIL, "MESON_TAC[]")


def test_checks_are_made_on_the_proofs_as_submitted_with_the_run_s_time_limit(settings: Settings) -> None:
    checks, progress = _Checks(), _Progress()
    with checks.engine(settings) as engine:
        results = check_again(
            [PROVED, NO_PROOF, FAILED],
            PROBLEMS,
            engine,
            settings,
            settings.cache_dir / "p.jsonl",
            5.0,
            progress.hooks(),
        )
    assert sorted(checks.calls) == [("add", "ARITH_TAC", 5.0), ("euclid", "MESON_TAC[]", 5.0), ("peirce", "", 5.0)]
    assert results == {
        PROVED.key: Result(Status.PASS, Reason.PROVED, ""),
        NO_PROOF.key: Result(Status.FAIL, Reason.NO_PROOF, "no proof"),
        FAILED.key: Result(Status.FAIL, Reason.TACTIC_FAILED, "e" * 200),  # the first line, cut to 200 characters
    }
    assert progress.status == ["re-verifying 3 attempts (3 to check)"]
    assert progress.checked == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_resumed_re_verification_takes_the_kept_verdicts_and_checks_only_the_rest(settings: Settings) -> None:
    checks, progress = _Checks(), _Progress()
    kept = settings.cache_dir / "p.jsonl"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"layout": "older"}\n')  # a line of an older layout: its check (none) runs again, no more
    with checks.engine(settings) as engine:
        first = check_again([PROVED, NO_PROOF], PROBLEMS, engine, settings, kept, None, progress.hooks())
        assert progress.checked == [(0, 2), (1, 2), (2, 2)]
        checks.calls.clear()
        again = check_again([PROVED, NO_PROOF, FAILED], PROBLEMS, engine, settings, kept, None, progress.hooks())
        assert [c[0] for c in checks.calls] == ["euclid"]
        assert progress.status == [
            "resuming re-verification: 2 of 3 already checked",
            "re-verifying 3 attempts (1 to check)",
        ]
        assert progress.checked == [(2, 3), (3, 3)]
        checks.calls.clear()
        last = check_again([PROVED, NO_PROOF, FAILED], PROBLEMS, engine, settings, kept, None, progress.hooks())
    assert not checks.calls and progress.checked == [(3, 3)]
    assert last == again and {k: again[k] for k in first} == first  # kept verdicts come back as they were
