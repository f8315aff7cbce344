"""The s2n-bignum-bench leaderboard's submission format, both ways: ``submit --format s2n-bignum-bench`` writes
the zip of one CSV (problem_id, category, query, answer) and ``--prover replay --answers`` reads it back; the
checker is the scripted double (what the answers are judged to be does not matter here)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.provers.replay import load_answers
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.s2n_source import import_source
from tests.doubles.verifier import ScriptedVerifierDouble, verdict
from tests.unit.test_s2n_source_import import _checkout

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
ANSWERS = {
    "arm.bignum_foo.LEMMA": "ARITH_TAC",
    "arm.bignum_foo.RUNTIME": 'REFL_TAC THEN\n  (* a comma, a quote " and a newline *) ALL_TAC',
    "arm.base.WORD_ADD_LEMMA": "CONV_TAC WORD_RULE",
}


def _double() -> Factory:
    def script(_problem: Problem, _proof: str, _call: int) -> Verdict:
        return verdict(Status.FAIL, Reason.TACTIC_FAILED)

    return lambda _problems, _settings: ScriptedVerifierDouble(script)


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    suites = tmp_path / "suites"
    import_source(_checkout(tmp_path), suites / "s2n-bignum")
    monkeypatch.setenv("PROVEBENCH_SUITES_DIR", str(suites))
    return Settings(cache_dir=tmp_path / "cache", suites_dir=suites)


def _replay_run(tmp_path: Path, settings: Settings, answers: Path, name: str, n: int = 1) -> RunDir:
    config = build_config(
        {"suite": "s2n-bignum", "n": n, "prover": {"name": "replay", "answers": str(answers)}}, {}, "t"
    )
    plan = plan_run(config, settings)
    prover = make_prover("replay", {"answers": str(answers)})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / name, plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), _double())
    return rundir


def test_the_leaderboards_zip_round_trips(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["problem_id", "answer"])
        w.writerows(ANSWERS.items())
    run = _replay_run(tmp_path, settings, answers, "first")
    target = tmp_path / "submission.zip"
    assert main(["submit", str(run.path), "--format", "s2n-bignum-bench", "-o", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    with zipfile.ZipFile(target) as z:
        assert z.namelist() == ["answers.csv"]
        rows = list(csv.reader(io.StringIO(z.read("answers.csv").decode())))
    assert rows[0] == ["problem_id", "category", "query", "answer"]
    by_id = {r[0]: r for r in rows[1:]}
    assert len(by_id) == len(rows) - 1 == 6  # one row per problem, those without an answer too
    assert by_id["arm.bignum_foo.LEMMA"][1:] == ["generic", "`!n. 0 + n = n`", "ARITH_TAC"]
    assert by_id["arm.bignum_foo.RUNTIME"][2:] == ["mk_eq(`1`, `1`)", ANSWERS["arm.bignum_foo.RUNTIME"]]
    assert by_id["arm.bignum_foo.BIGNUM_FOO_CORRECT"][1:] == [
        "functional_correctness_arm",
        "`!pc. ensures arm P Q R`",
        "",
    ]
    # Read back by the replay prover: the same answers, problem by problem.
    again = _replay_run(tmp_path, settings, target, "again")
    first = {r.problem: r.prover.proof for r in run.records()}
    assert {r.problem: r.prover.proof for r in again.records()} == first and first[
        "arm.bignum_foo.LEMMA"
    ] == "ARITH_TAC"
    # The same answers give the same bytes.
    twice = tmp_path / "twice.zip"
    assert main(["submit", str(again.path), "--format", "s2n-bignum-bench", "-o", str(twice)]) == 0
    assert twice.read_bytes() == target.read_bytes()


def test_what_the_leaderboard_does_not_take_is_refused_in_one_line(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "a.csv"
    answers.write_text("problem_id,answer\narm.bignum_foo.LEMMA,ARITH_TAC\n")
    run = _replay_run(tmp_path, settings, answers, "two", n=2)
    assert main(["submit", str(run.path), "--format", "s2n-bignum-bench"]) == 2
    err = capsys.readouterr().err
    assert "takes one answer per problem; this run has n = 2" in err and len(err.strip().splitlines()) == 1
    assert main(["submit", str(run.path), "--format", "s2n-bignum-bench", "--name", "x"]) == 2
    assert "--name, --contact and --open-data are for provebench bundles" in capsys.readouterr().err
    assert main(["submit", str(run.path)]) == 2
    assert "a submission bundle needs --name, --contact, --open-data" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("members", "said"),
    [
        ({"a.csv": "problem_id,answer\nx,y\n", "b.csv": "problem_id,answer\n"}, "must hold a single CSV file"),
        ({"notes.txt": "hello"}, "must hold a single CSV file (it holds notes.txt)"),
        ({}, "must hold a single CSV file (it holds nothing)"),
    ],
)
def test_a_zip_of_answers_holds_one_csv(tmp_path: Path, members: dict[str, str], said: str) -> None:
    path = tmp_path / "answers.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    with pytest.raises(UserError, match=said.replace("(", r"\(").replace(")", r"\)")):
        load_answers(path)
    path.write_bytes(b"PK not really")
    with pytest.raises(UserError, match="not a zip file"):
        load_answers(path)


def test_the_report_gives_the_leaderboards_columns_and_verdict_names(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("problem_id,answer\narm.bignum_foo.LEMMA,ARITH_TAC\n")
    run = _replay_run(tmp_path, settings, answers, "report")
    assert main(["report", str(run.path), "--json"]) == 0
    layout = json.loads(capsys.readouterr().out)["layout"]
    assert [c["label"] for c in layout["columns"]] == ["ARM FC", "x86 FC", "Prog State", "Bit Vector", "Generic"]
    assert layout["overall"]["problems"] == 6
    # The double fails the one answer (tactic-failed: the benchmark's FAIL); five have no answer (its ERROR).
    assert layout["verdicts"] == {"ERROR": {"FAIL no-proof": 5}, "FAIL": {"FAIL tactic-failed": 1}}
    assert main(["report", str(run.path)]) == 0
    assert "as s2n-bignum-bench lays it out" in capsys.readouterr().out
    assert main(["report", str(run.path), "--html", "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "As s2n-bignum-bench lays it out" in html and '<th class="num">ARM FC</th>' in html
