"""``--executor`` and ``--ray-address`` as a user meets them, without starting Ray or a checker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provebench.checking import ray as ray_executor
from provebench.cli.args import build_parser
from provebench.cli.command_settings import settings_from
from provebench.cli.main import main
from provebench.core.settings import Executor


def _proof(tmp_path: Path) -> str:
    path = tmp_path / "p.ml"
    path.write_text("ARITH_TAC\n")
    return str(path)


def test_without_ray_installed_executor_ray_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    argv = ["check", "--executor", "ray", "--suite", "hol-light-core", "--problem", "add_comm", _proof(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"provebench: error: {ray_executor.RAY_MISSING}"


def test_ray_address_goes_with_executor_ray(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["check", "--ray-address", "127.0.0.1:6379", "--suite", "hol-light-core", "--problem", "add_comm"]
    assert main([*argv, _proof(tmp_path)]) == 2
    assert "--ray-address goes with --executor ray" in capsys.readouterr().err


COMMANDS = [["run", "--suite", "x"], ["suites", "selftest", "x"], ["leaderboard", "add", "b", "--board", "d"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_checking_command_takes_the_executor_flags(command: list[str]) -> None:
    args = build_parser().parse_args([*command, "--executor", "ray", "--ray-address", "ray-head.example:6379"])
    settings = settings_from(args)
    assert settings.executor is Executor.RAY and settings.ray_address == "ray-head.example:6379"


def test_an_empty_server_variable_means_no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVEBENCH_SERVER", "")
    settings = settings_from(build_parser().parse_args(["run", "--suite", "x"]))
    assert settings.server is None and settings.executor is Executor.LOCAL


def test_ray_failures_become_infrastructure_errors() -> None:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'provebench[ray]'")
    from provebench.core.errors import VerifierUnavailable

    lost = ray_executor._as_verifier_error(ray.exceptions.ActorDiedError())
    assert isinstance(lost, VerifierUnavailable) and "actor was lost" in str(lost)
    bug = ValueError("a bug")
    assert ray_executor._as_verifier_error(bug) is bug  # not hidden as an infrastructure error


def test_an_actor_that_cannot_start_says_why_in_one_line() -> None:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'provebench[ray]'")
    from provebench.core.errors import VerifierUnavailable

    why = "no hol-light-s2n image for s2n-bignum abc; build it with: provebench images build hol-light-s2n"
    raised = ray.exceptions.RayTaskError(
        "CheckerActor.__init__", f"Traceback (most recent call last):\n  ...\nprovebench.errors.UserError: {why}", None
    )
    died = ray.exceptions.ActorDiedError(cause=raised)
    error = ray_executor._as_verifier_error(died)
    assert isinstance(error, VerifierUnavailable)
    assert str(error) == f"a Ray checker could not start on its node: {why}"
