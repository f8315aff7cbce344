"""``check`` exits by its verdicts: 0 all PASS, 1 a verdict against the proof, 3 an ERROR (the checker failed,
not the proof), on this machine's checkers and through a service.

The checker is the scripted verifier double behind the CLI's checker table (the seam the CLI builds its
verifiers through); the exit codes are about what the CLI does with verdicts, not how they are reached.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from provebench.checking import registry
from provebench.checking.engine import Engine
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.service.app import create_app
from provebench.service.state import ServiceState
from tests.doubles.verifier import ScriptedVerifierDouble, verdict
from tests.service_support import served


def _script(problem: Problem, proof: str, _call: int) -> Verdict | VerifierUnavailable:
    """PASS for ARITH_TAC, FAIL for anything else, and a checker that is always lost for DOWN."""
    if proof.strip() == "DOWN":
        return VerifierUnavailable("container lost (scripted)")
    if proof.strip() == "ARITH_TAC":
        return verdict(Status.PASS, Reason.PROVED)
    return verdict(Status.FAIL, Reason.TACTIC_FAILED)


@pytest.fixture(autouse=True)
def _double_checkers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def factory_for(_system: str) -> object:
        def make(_settings: Settings, _problems: Sequence[Problem]) -> Verifier:
            return ScriptedVerifierDouble(_script)

        return make

    monkeypatch.setattr(registry, "factory_for", factory_for)
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_INFRA_BACKOFF_S", "0")
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROVEBENCH_SERVER", raising=False)


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    state = ServiceState(engine=Engine(Settings(infra_backoff_s=0), lambda _s, _p: ScriptedVerifierDouble(_script)))
    with served(create_app(state)) as url:
        yield url


def _check(tmp_path: Path, proof: str, *where: str) -> int:
    path = tmp_path / "proof.ml"
    path.write_text(proof)
    return main(["check", *where, "--suite", "hol-light-core", "--problem", "add_comm", str(path)])


@pytest.mark.parametrize(("proof", "code"), [("ARITH_TAC", 0), ("REFL_TAC", 1), ("DOWN", 3)])
def test_one_check_exits_by_its_verdict(
    proof: str, code: int, tmp_path: Path, service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, proof) == code, capsys.readouterr()
    assert _check(tmp_path, proof, "--server", service_url) == code, capsys.readouterr()
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("proofs", "code"), [(["ARITH_TAC"] * 2, 0), (["ARITH_TAC", "REFL_TAC"], 1), (["DOWN"], 3)])
def test_a_batch_exits_3_when_any_verdict_is_error(
    proofs: list[str], code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.jsonl"
    lines = [f'{{"id": {n}, "problem": "add_comm", "proof": "{p}"}}' for n, p in enumerate([*proofs, "REFL_TAC"])]
    batch.write_text("\n".join(lines) + "\n")
    # A FAIL beside an ERROR does not hide it: 3 wins over 1.
    expected = 3 if code == 3 else 1
    assert main(["check", "--suite", "hol-light-core", "--batch", str(batch)]) == expected, capsys.readouterr()
