"""`provebench run` and `report` errors that need no checker: one line, exit 2, no run directory left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provebench.cli.main import main
from tests.cli_support import refused_in_one_line


@pytest.mark.parametrize(
    ("config", "extra", "fragment"),
    [
        ("suite: hol-light-core\nsamples: 4\n", [], "'samples': Extra inputs are not permitted"),
        ("suite: nope\n", [], "unknown suite 'nope'"),
        ("suite: hol-light-core\n", ["--category", "poetry"], "has no category 'poetry'"),
        ("suite: hol-light-core\n", ["--problem", "fermat"], "has no problem 'fermat'"),
        ("suite: hol-light-core\nprover: {name: replay}\n", [], "prover replay: setting 'answers': Field required"),
        ("suite: hol-light-core\nprover: {name: openai}\n", [], "prover openai: setting 'model': Field required"),
        ("suite: hol-light-core\nprover: {name: gpt}\n", [], "unknown prover 'gpt'"),
        ("suite: hol-light-core\n", ["-k", "1,x"], "-k takes comma-separated integers"),
        ("suite: hol-light-core\nn: 2\n", ["-k", "3"], "k values must be between 1 and n=2"),
        ("suite: [\n", [], "invalid YAML"),
    ],
)
def test_bad_run_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, extra: list[str], fragment: str
) -> None:
    f = tmp_path / "run.yaml"
    f.write_text(config)
    out = tmp_path / "out"
    refused_in_one_line(capsys, ["run", "--config", str(f), "--out", str(out), *extra], fragment)
    assert not out.exists()


def test_replay_with_a_bad_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("problem_id,answer\nno_such_problem,ARITH_TAC\n")
    out = tmp_path / "out"
    argv = ["run", "--suite", "hol-light-core", "--prover", "replay", "--answers", str(answers), "--out", str(out)]
    refused_in_one_line(capsys, argv, "answers for problems the suite does not have: 'no_such_problem'")
    assert not out.exists()
    refused_in_one_line(capsys, [*argv[:-2], "--repair-rounds", "1", "--out", str(out)], "cannot use repair rounds")


def test_openai_without_its_key_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["run", "--suite", "hol-light-core", "--prover", "openai", "--model", "m", "--out", str(tmp_path / "o")]
    refused_in_one_line(capsys, argv, "the environment variable OPENAI_API_KEY (api_key_env) is not set")


def test_resume_refuses_changes_to_what_the_run_measures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rundir = tmp_path / "run"
    rundir.mkdir()
    (rundir / "config.yaml").write_text("suite: hol-light-core\nn: 2\n")
    refused_in_one_line(
        capsys, ["run", "--resume", str(rundir), "-n", "4"], "only checkers, prover_connections and infra_retries"
    )
    refused_in_one_line(capsys, ["run", "--resume", str(tmp_path)], "not a run directory (no config.yaml)")


def test_an_existing_run_directory_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rundir = tmp_path / "run"
    rundir.mkdir()
    (rundir / "config.yaml").write_text("suite: hol-light-core\n")
    refused_in_one_line(
        capsys, ["run", "--suite", "hol-light-core", "--out", str(rundir)], "already exists and is not empty"
    )


def test_report_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_line(capsys, ["report", str(tmp_path)], "not a run directory")
    (tmp_path / "config.yaml").write_text("suite: hol-light-core\n")
    refused_in_one_line(capsys, ["report", str(tmp_path)], "has no manifest.json yet")
    (tmp_path / "manifest.json").write_text("{broken")
    refused_in_one_line(capsys, ["report", str(tmp_path)], "manifest.json: invalid JSON")


def test_a_run_directory_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl

    rundir = tmp_path / "run"
    rundir.mkdir()
    (rundir / "config.yaml").write_text("suite: hol-light-core\nn: 1\n")
    with (rundir / ".lock").open("wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused_in_one_line(capsys, ["run", "--resume", str(rundir)], "another provebench process is running this run")
    assert set(os.listdir(rundir)) == {".lock", "config.yaml"}  # nothing was started or written


def test_limit_takes_a_seeded_subset_in_suite_order() -> None:
    from provebench.core.settings import Settings
    from provebench.runs.config import build_config
    from provebench.runs.run import plan_run

    def ids(**config: object) -> list[str]:
        plan = plan_run(build_config({"suite": "hol-light-core", **config}, {}, "test"), Settings())
        return [p.id for p in plan.problems]

    every = ids()
    five = ids(limit=5, seed=3)
    assert len(five) == 5 and five == ids(limit=5, seed=3) and five != ids(limit=5, seed=4)
    assert five == [pid for pid in every if pid in five]  # the suite's order
    logic = ids(categories=["logic"], limit=3)
    assert len(logic) == 3 and set(logic) <= set(ids(categories=["logic"]))
    assert ids(limit=500) == every


def test_dry_run_prints_the_plan_and_starts_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = [
        "run",
        "--suite",
        "hol-light-core",
        "--limit",
        "4",
        "--seed",
        "1",
        "-n",
        "2",
        "--dry-run",
        "--out",
        str(out),
    ]
    assert main(["--checkers", "2", *argv]) == 0
    said = capsys.readouterr().out
    assert "limit: 4" in said and "seed: 1" in said  # the resolved config
    assert "4 of 50 problems (a random 4, seed 1)" in said and "8 attempts" in said
    assert "1 context(s) to load, up to 2 checker(s) each" in said
    assert not out.exists()
    # a dry run of the openai prover needs no key
    os.environ.pop("NO_SUCH_KEY", None)
    argv = ["run", "--suite", "hol-light-core", "--prover", "openai", "--model", "m", "--api-key-env", "NO_SUCH_KEY"]
    assert main([*argv, "--dry-run"]) == 0


def test_suites_show_lists_problem_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites", "show", "hol-light-core", "--problems", "--category", "logic"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8 and lines[0].split() == ["excluded_middle", "logic", "30", "s"]
    assert main(["suites", "show", "hol-light-core", "--problems", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 50 and rows[0] == {
        "id": "excluded_middle",
        "category": "logic",
        "kind": "theorem",
        "timeout_s": 30.0,
    }
    refused_in_one_line(
        capsys, ["suites", "show", "hol-light-core", "--problems", "--category", "poetry"], "has no category 'poetry'"
    )
