"""Attempt records of schema v1 (flat), as provebench wrote them before v2, are read as they were.

The files are in tests/fixtures/v1 (its README says how each was made): a run directory, a bundle, a board
entry's lines, a selftest journal and a re-verification progress file. They are read in place, or copied
first where a test appends; none is ever rewritten. The checker is the scripted double.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from provebench.boards import reverify
from provebench.boards.add import add_entry
from provebench.boards.board import Board
from provebench.boards.bundle import ATTEMPTS_MEMBER, SUMMARY_MEMBER, read_bundle
from provebench.core.errors import UserError
from provebench.core.journal import (
    ApiRetry,
    AttemptRecord,
    AttemptRecordV1,
    Journal,
    ProverAnswer,
    attempt_from,
    read_journal,
)
from provebench.core.model import CheckerInfo, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.run import RunDir, RunHooks, execute, plan_run, summarize_run
from provebench.runs.selftest import SelftestJournal
from provebench.runs.stats import ProblemRef, summarize
from provebench.suites.load import find_suite
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble, verdict

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "v1"
SETTINGS = Settings(checkers=1, infra_backoff_s=0)
HOL = CheckerInfo(
    image="provebench/hol-light:414375962eb5",
    digest="sha256:467fb5880fae55906a32f7af04a2b2c7fb6138032356cd63f5b2c6248e3729b0",
    system=System.HOL_LIGHT,
    version="1:3.1.0+git20260619-2+b3",
)  # the checker the committed board's entry declares, before recipes were recorded
SERVICE = "https://checkers.example.org"
EVERY_FIELD = {
    "schema_version": 1,
    "problem": "p",
    "sample": 2,
    "round": 1,
    "status": "CHEATING",
    "reason": "statement-mismatch",
    "category": "logic",
    "prover": "openai",
    "proof": "MESON_TAC[]",
    "raw_reply": "```\nMESON_TAC[]\n```",
    "messages": ["changed statement"],
    "check_seconds": 1.5,
    "cpu_seconds": 1.25,
    "proof_seconds": 0.5,
    "checker_digest": "sha256:double",
    "checker_version": "double",
    "checker_recipe": "double:0",
    "checker_packages": "sha256:0",
    "checker_service": SERVICE,
    "benchmark_pass": True,
    "computed_goal": "!x. x = x",
    "prover_seconds": 3.0,
    "tokens_in": 100,
    "tokens_out": 20,
    "cost": 0.01,
    "finish_reason": "stop",
    "api_retries": [{"error": "429", "wait_seconds": 2.0}],
    "infra_retries": 1,
    "session": 3,
    "finished_at": 1796686830.5,
}


def _member(bundle: Path, name: str) -> bytes:
    with tarfile.open(bundle) as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read()


def test_every_v1_field_lands_in_its_place_and_the_image_comes_from_the_run_s_checker() -> None:
    other = DOUBLE_CHECKER.model_copy(update={"recipe": "double:1", "image": "not this one"})
    assert attempt_from(EVERY_FIELD, [other, DOUBLE_CHECKER]) == AttemptRecord(
        problem="p",
        sample=2,
        round=1,
        category="logic",
        prover=ProverAnswer(
            name="openai",
            proof="MESON_TAC[]",
            raw_reply="```\nMESON_TAC[]\n```",
            seconds=3.0,
            tokens_in=100,
            tokens_out=20,
            cost=0.01,
            finish_reason="stop",
            api_retries=(ApiRetry(error="429", wait_seconds=2.0),),
        ),
        verdict=Verdict(
            status=Status.CHEATING,
            reason=Reason.STATEMENT_MISMATCH,
            messages=("changed statement",),
            check_seconds=1.5,
            cpu_seconds=1.25,
            proof_seconds=0.5,
            checker=DOUBLE_CHECKER,  # the declared checker of that identity and digest: its image too
            computed_goal="!x. x = x",
            benchmark_pass=True,
            service=SERVICE,
        ),
        infra_retries=1,
        session=3,
        finished_at=1796686830.5,
    )


def test_a_v1_checker_the_run_does_not_declare_keeps_its_identity_and_the_run_s_system_but_no_image() -> None:
    lean = CheckerInfo(image="lean", digest="sha256:lean", system=System.LEAN4, version="v4", recipe="lean4:0")
    checker = attempt_from(EVERY_FIELD, [lean]).verdict.checker
    assert checker == CheckerInfo(
        image="", digest="sha256:double", system=System.LEAN4, version="double", recipe="double:0", packages="sha256:0"
    )


def test_a_v2_record_reads_back_as_it_was_written(tmp_path: Path) -> None:
    record = attempt_from(EVERY_FIELD, [DOUBLE_CHECKER])
    line = json.loads(record.model_dump_json())
    assert line["schema_version"] == 2 and line["verdict"]["checker"]["image"] == "double"
    assert attempt_from(line) == record
    with Journal(tmp_path / "attempts.jsonl") as journal:
        journal.append(record)
    assert read_journal(tmp_path / "attempts.jsonl") == [record]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ({**EVERY_FIELD, "schema_version": 3}, "line 1: not an attempt record: schema_version 3 is not one this"),
        ({**EVERY_FIELD, "schema_version": "2"}, "schema_version '2' is not one this provebench reads (1, 2)"),
        ({**EVERY_FIELD, "schema_version": True}, "schema_version True is not one"),
        (EVERY_FIELD, "line 1: not an attempt record: a schema v1 record does not name its checker's proof system"),
        ({**EVERY_FIELD, "checker_recipe": 7}, "line 1: not an attempt record: checker_recipe: Input should be"),
        ({**EVERY_FIELD, "schema_version": 2}, "line 1: not an attempt record: prover: Input should be a valid dict"),
    ],
)
def test_a_line_no_schema_version_reads_is_a_one_line_error_naming_file_and_line(
    tmp_path: Path, line: dict[str, object], said: str
) -> None:
    path = tmp_path / "attempts.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(UserError) as exc:
        read_journal(path)  # no checkers declared: a v1 line that was checked cannot say on what system
    assert str(exc.value).startswith(f"{path}: ") and said in str(exc.value) and "\n" not in str(exc.value)


def test_a_v1_run_reads_to_the_summary_its_own_provebench_wrote() -> None:
    rd = RunDir(V1 / "run")
    records = rd.records()
    assert len(records) == 19 and {r.verdict.checker for r in records} == {DOUBLE_CHECKER, None}
    written = json.loads((rd.summary_path).read_text())
    since = {"cached_replies": 0, "tokens_reasoning": 0}  # totals added after v1 (no cache, no reasoning then)
    assert summarize_run(rd, rd.config()).model_dump(mode="json") == {**written, "totals": written["totals"] | since}
    assert written["by_status"] == {"ERROR": 3, "FAIL": 12, "PASS": 4} and not written["complete"]


def test_a_v1_run_resumes_in_v2_after_its_v1_lines_which_stay_as_they_were(tmp_path: Path) -> None:
    shutil.copytree(V1 / "run", tmp_path / "run")
    rd = RunDir(tmp_path / "run")
    before = rd.journal_path.read_bytes()
    config = rd.config()
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)

    def logic_and_arithmetic(problem: object, proof: str, _call: int) -> Verdict:
        category = getattr(problem, "category", "")
        won = {"logic": "MESON_TAC[]", "arithmetic": "ARITH_TAC"}.get(category)
        return verdict(Status.PASS, Reason.PROVED) if proof == won else verdict(Status.FAIL, Reason.TACTIC_FAILED)

    double = ScriptedVerifierDouble(logic_and_arithmetic)  # type: ignore[arg-type]
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _s, _p: double, resume=True)
    after = rd.journal_path.read_bytes()
    assert after.startswith(before)  # appended to, never rewritten
    new = [json.loads(line) for line in after[len(before) :].splitlines()]
    assert new and all(line["schema_version"] == 2 for line in new)
    assert {line["problem"] for line in new} == {"add_comm"}  # only the ERROR chains were redone
    summary = summarize_run(rd, config)
    assert summary.complete and summary.by_problem["add_comm"].n == 3 and summary.by_problem["add_comm"].c == 1
    written = json.loads((V1 / "run" / "summary.json").read_text())
    for pid in ("excluded_middle", "peirce", "append_nil"):  # the v1 verdicts count as they did
        assert summary.by_problem[pid].model_dump() == written["by_problem"][pid]


def test_a_committed_board_s_v1_lines_read_to_the_counts_its_entry_recorded() -> None:
    lines = (V1 / "board-attempts.jsonl").read_text().splitlines()
    records = [attempt_from(json.loads(line), [HOL]) for line in lines]
    assert all(r.verdict.checker == HOL for r in records if r.prover.proof is not None)
    problems = sorted({r.problem for r in records})
    summary = summarize([ProblemRef(p, "x") for p in problems], records, 4, [1, 2, 3, 4])
    # n and c per problem as the entry's stats (computed when these lines were v1) record them
    recorded = {
        "add_0_right": 1,
        "add_comm": 1,
        "append_nil": 0,
        "card_numseg_1": 0,
        "excluded_middle": 2,
        "gauss_sum": 0,
        "int_abs_triangle": 1,
        "le_antisym": 1,
        "peirce": 2,
        "real_abs_triangle": 2,
        "real_midpoint": 2,
        "union_comm": 1,
    }
    assert {p: (c.n, c.c) for p, c in summary.by_problem.items()} == {p: (4, c) for p, c in recorded.items()}
    assert summary.by_status == {"FAIL": 33, "PASS": 13, "TIMEOUT": 2}


def test_a_v1_bundle_reads_with_its_checkers_from_its_manifest() -> None:
    b = read_bundle(V1 / "bundle-v1.tar.gz")
    assert len(b.attempts) == 100 and all(r.verdict.checker == DOUBLE_CHECKER for r in b.attempts)
    lines = _member(b.path, ATTEMPTS_MEMBER).splitlines()
    assert all(AttemptRecordV1.model_validate_json(line).schema_version == 1 for line in lines)
    written = json.loads(_member(b.path, SUMMARY_MEMBER))
    suite = find_suite("hol-light-core", SETTINGS.suites_dir)
    summary = summarize([ProblemRef(p.id, p.category) for p in suite.problems], b.attempts, 2, [1, 2])
    assert summary.model_dump(mode="json", include={"solved", "pass_at_k", "by_problem", "by_status"}) == {
        k: written[k] for k in ("solved", "pass_at_k", "by_problem", "by_status")
    }


def test_a_v1_bundle_is_added_taking_up_the_re_verification_an_older_add_kept(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", infra_backoff_s=0)  # type: ignore[call-arg]
    b = read_bundle(V1 / "bundle-v1.tar.gz")
    kept = reverify.progress_path(settings, b.sha256, [DOUBLE_CHECKER])
    kept.parent.mkdir(parents=True)
    shutil.copy(V1 / "reverify-v1.jsonl", kept)
    double = ScriptedVerifierDouble(lambda _p, _proof, _n: verdict(Status.FAIL, Reason.TACTIC_FAILED))
    entry = add_entry(V1 / "bundle-v1.tar.gz", tmp_path / "board", settings, make_verifier=lambda _s, _p: double)
    assert double.calls == []  # every check the older add made was taken up: the same sample, the same proofs
    assert entry.reverification.checked == entry.reverification.reproduced == 33
    published = Board(tmp_path / "board").published_attempts(entry)
    assert published == list(b.attempts)  # written in v2, read back the same
    line = (tmp_path / "board" / "entries" / entry.id / "attempts.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["schema_version"] == 2


def test_a_selftest_journal_written_before_reads_as_it_did(tmp_path: Path) -> None:
    suite = find_suite("hol-light-core", SETTINGS.suites_dir)
    done = SelftestJournal(V1 / "selftest-v1.jsonl", suite).done()
    assert {p: v.status for p, v in done.items()} == {
        "excluded_middle": Status.PASS,
        "peirce": Status.PASS,
        "append_nil": Status.FAIL,
    }  # add_comm's ERROR is checked again; gauss_sum's PASS is of another revision of the suite
    assert done["excluded_middle"] == verdict(Status.PASS, Reason.PROVED).model_copy(update={"check_seconds": 0.02})
    shutil.copy(V1 / "selftest-v1.jsonl", tmp_path / "selftest.jsonl")
    journal = SelftestJournal(tmp_path / "selftest.jsonl", suite)
    journal.append(suite.problem("add_comm"), verdict(Status.PASS, Reason.PROVED))
    assert set(journal.done()) == {"excluded_middle", "peirce", "append_nil", "add_comm"}


def test_a_re_verification_progress_file_written_before_reads_as_it_did() -> None:
    done = reverify._done(V1 / "reverify-v1.jsonl")
    b = read_bundle(V1 / "bundle-v1.tar.gz")
    selected, _others = reverify.select(b.attempts, 0.1, reverify.seed_of(b.sha256))
    assert set(done) == {r.key for r in selected}  # the sample drawn from v1 lines is the one drawn before
    assert all(result.status is r.verdict.status for r in selected for result in [done[r.key][1]])
