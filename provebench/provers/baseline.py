"""The baseline prover: a fixed tactic portfolio per proof system, no model.

The portfolio is data (``portfolios/<system>.yaml``, or a file of the user's).
Attempt ``i`` of a problem tries strategy ``i`` (wrapping around), and a repair
round tries the next one, so n attempts cover the first n strategies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, read_yaml
from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, validate_settings

_PORTFOLIOS = Path(__file__).parent / "portfolios"


class Strategy(BaseModel):
    """One entry of a portfolio."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="the strategy's name, kept as the attempt's raw reply")
    tactic: str = Field(min_length=1, description="the proof: a tactic (Lean: it replaces the statement's sorry)")


class BaselineSettings(BaseModel):
    """Settings of the baseline prover."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    portfolio: Path | None = None  # a YAML list of {name, tactic}; default: the bundled one per system


def load_portfolio(path: Path) -> tuple[Strategy, ...]:
    """A validated portfolio file; one-line errors."""
    data = read_yaml(path, "portfolio file")
    if not isinstance(data, list) or not data:
        raise UserError(f"{path}: a portfolio is a non-empty list of {{name, tactic}} entries")
    strategies = []
    for i, entry in enumerate(data, 1):
        try:
            strategies.append(Strategy.model_validate(entry))
        except ValidationError as exc:
            where, msg = first_error(exc)
            raise UserError(f"{path}: entry {i}: {where or 'entry'}: {msg}") from None
    return tuple(strategies)


def fill_lean_statement(statement: str, tactic: str) -> str:
    """A Lean candidate: the statement with its last ``sorry`` (the theorem's proof) done by ``tactic``."""
    at = statement.rfind("sorry")
    if at < 0:
        return statement
    head = statement[:at]
    proof = tactic if head.rstrip().endswith("by") else f"(by {tactic})"
    return head + proof + statement[at + len("sorry") :]


class BaselineProver(Prover):
    """Tries the strategies of a portfolio in order."""

    name = "baseline"

    def __init__(self, settings: BaselineSettings) -> None:
        self._settings = settings
        self._portfolios: dict[System, tuple[Strategy, ...]] = {}
        self._paths: dict[System, Path] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BaselineProver:
        """Validate the settings mapping of a run config."""
        return cls(validate_settings(BaselineSettings, cls.name, settings))

    def _path(self, system: System) -> Path:
        return self._settings.portfolio or _PORTFOLIOS / f"{system.value}.yaml"

    def portfolio(self, system: System) -> tuple[Strategy, ...]:
        """The strategies for ``system``, loaded once."""
        if system not in self._portfolios:
            path = self._path(system)
            if self._settings.portfolio is None and not path.exists():
                raise UserError(f"the baseline prover has no portfolio for {system.value} yet")
            self._portfolios[system] = load_portfolio(path)
            self._paths[system] = path
        return self._portfolios[system]

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """Load the portfolio of every proof system in the suite."""
        for system in {p.system for p in suite_problems}:
            self.portfolio(system)

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """The strategy for this sample and round."""
        strategies = self.portfolio(problem.system)
        chosen = strategies[(sample + len(history)) % len(strategies)]
        proof = (
            fill_lean_statement(problem.statement, chosen.tactic) if problem.system is System.LEAN4 else chosen.tactic
        )
        return ProverOutput(proof=proof, raw_reply=f"strategy {chosen.name}")

    def describe(self) -> dict[str, Any]:
        """The portfolio files and their hashes."""
        return {
            "name": self.name,
            "portfolios": {
                s.value: {"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                for s, p in self._paths.items()
            },
        }
