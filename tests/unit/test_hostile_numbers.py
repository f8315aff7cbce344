"""Every timeout, memory size and count a user gives is finite and in range (issue 30, part C, item 5).

Before: ``--timeout inf`` and a config's ``timeout_s: .inf`` became an infinite check limit, and
``--memory-mb 99999999999999`` went into the settings unvalidated (``model_copy`` does not validate).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.suites.s2n_bignum import load_timeout_map
from tests.cli_support import refused_in_one_line


def _usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    """argparse refuses the value: exit 2, one line naming the flag."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert info.value.code == 2, err
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check", "--system", "hol-light", "--goal", "T", "--timeout", "inf", "missing.ml"], "--timeout"),
        (["check", "--system", "hol-light", "--goal", "T", "--timeout", "nan", "missing.ml"], "--timeout"),
        (["check", "--system", "hol-light", "--goal", "T", "--timeout", "0", "missing.ml"], "--timeout"),
        (["check", "--system", "hol-light", "--goal", "T", "--timeout", "604801", "missing.ml"], "--timeout"),
        (["--memory-mb", "99999999999999", "suites", "list"], "--memory-mb"),
        (["--memory-mb", "255", "suites", "list"], "--memory-mb"),
        (["--checkers", "0", "suites", "list"], "--checkers"),
        (["--checkers", "65", "suites", "list"], "--checkers"),
        (["suites", "selftest", "hol-light-core", "--max-timeout", "inf"], "--max-timeout"),
        (["suites", "selftest", "hol-light-core", "--sample", "0"], "--sample"),
        (["run", "--suite", "hol-light-core", "--timeout", "inf", "--dry-run"], "--timeout"),
        (["run", "--suite", "hol-light-core", "-n", "0", "--dry-run"], "--samples"),
        (["run", "--suite", "hol-light-core", "--limit", "0", "--dry-run"], "--limit"),
        (["run", "--suite", "hol-light-core", "--prover-connections", "0", "--dry-run"], "--prover-connections"),
        (["run", "--suite", "hol-light-core", "--repair-rounds", "-1", "--dry-run"], "--repair-rounds"),
        (["leaderboard", "verify", "--board", "b", "--sample", "nan"], "--sample"),
        (["serve", "--drain-seconds", "inf"], "--drain-seconds"),
        (["serve", "--max-body-mb", "inf"], "--max-body-mb"),
        (["mcp", "--idle-seconds", "inf"], "--idle-seconds"),
        (["mcp", "--sessions", "0"], "--sessions"),
    ],
)
def test_flags_out_of_bounds_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _usage_error(capsys, argv, fragment)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("timeout_s: .inf\n", "'timeout_s'"),
        ("timeout_s: .nan\n", "'timeout_s'"),
        ("timeout_s: 1.0e+400\n", "'timeout_s'"),
        ("timeout_s: 99999999\n", "'timeout_s'"),
        ("limit: 99999999999999\n", "'limit'"),
        ("n: .inf\n", "'n'"),
        ("checkers: 1000\n", "'checkers'"),
    ],
)
def test_run_config_numbers_out_of_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, fragment: str
) -> None:
    f = tmp_path / "run.yaml"
    f.write_text("suite: hol-light-core\n" + config)
    refused_in_one_line(capsys, ["run", "--config", str(f), "--dry-run"], fragment)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PROVEBENCH_LOAD_TIMEOUT_S", "inf"),
        ("PROVEBENCH_INFRA_BACKOFF_S", "inf"),
        ("PROVEBENCH_MEMORY_MB", "99999999999999"),
        ("PROVEBENCH_MEMORY_BUDGET_MB", "99999999999999"),
        ("PROVEBENCH_MEMORY_MB", "lots"),
    ],
)
def test_settings_out_of_bounds_name_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    refused_in_one_line(capsys, ["suites", "list"], variable)


def test_timeout_scale_must_be_finite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["suites", "import", "s2n-bignum", "--from", str(tmp_path), "--timeout-scale", "inf"]
    refused_in_one_line(capsys, [*argv, "--out", str(tmp_path / "out")], "--timeout-scale must be a positive number")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("entry", ['"timeout_sec": 1e400', '"timeout_sec": Infinity', '"prove_secs": 1e308'])
def test_timeout_map_numbers_are_finite(tmp_path: Path, entry: str) -> None:
    f = tmp_path / "timeout-map.json"
    f.write_text('[{"problem_id": "p", ' + entry + "}]")
    with pytest.raises(UserError, match="must be a (non-negative|positive) number"):
        load_timeout_map(f)


def test_a_config_at_the_bounds_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "run.yaml"
    f.write_text("suite: hol-light-core\ntimeout_s: 604800\nlimit: 3\n")
    assert main(["run", "--config", str(f), "--dry-run"]) == 0
    assert "timeout_s: 604800" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("file", "change", "fragment"),
    [
        ("suite.yaml", ("default_timeout_s: 30", "default_timeout_s: .inf"), "field 'default_timeout_s'"),
        ("suite.yaml", ("default_timeout_s: 30", "default_timeout_s: 1e400"), "field 'default_timeout_s'"),
        ("suite.yaml", ("default_timeout_s: 30", "timeout_scale: .nan"), "field 'timeout_scale'"),
        ("suite.yaml", ("default_timeout_s: 30", "memory_mb: 99999999999999"), "field 'memory_mb'"),
        ("suite.yaml", ("default_timeout_s: 30", "default_timeout_s: 604800\ntimeout_scale: 2"), "over the limit"),
        ("problems.yaml", ("  category: logic\n", "  category: logic\n  timeout_s: 1e400\n"), "field 'timeout_s'"),
        ("problems.yaml", ("  category: logic\n", "  category: logic\n  timeout_s: .inf\n"), "field 'timeout_s'"),
    ],
)
def test_suite_numbers_out_of_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, change: tuple[str, str], fragment: str
) -> None:
    """A suite's default_timeout_s: .inf and a problem's timeout_s: 1e400 became an infinite check limit."""
    suite = tmp_path / "suite"
    shutil.copytree(Path(__file__).parents[2] / "problems" / "hol-light-core", suite)
    text = (suite / file).read_text()
    assert change[0] in text
    (suite / file).write_text(text.replace(change[0], change[1], 1))
    refused_in_one_line(capsys, ["run", "--suite", str(suite), "--dry-run"], fragment)
