"""The configuration of a run: a YAML file, command-line overrides, validation with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from provebench.core.errors import UserError
from provebench.core.inputs import MAX_CHECKERS, MAX_COUNT, TimeoutSeconds, first_error, read_lines, read_yaml
from provebench.core.outputs import write_atomic

CONFIG_FILE = "config.yaml"
COMBIBENCH_SAMPLES = 16  # CombiBench's protocol: pass@16

# What may differ when a run is resumed: how fast it goes, not what it measures.
RESUMABLE_OVERRIDES = frozenset({"prover_connections", "checkers", "infra_retries"})


class ProverConfig(BaseModel):
    """``prover:``: the prover's name and its own settings (validated by the prover)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str = Field(
        default="baseline", description="the prover: baseline, openai, agent, replay, or one an installed package adds"
    )

    def settings(self) -> dict[str, Any]:
        """The prover's own settings, without ``name``."""
        return dict(self.model_extra or {})


class RunConfig(BaseModel):
    """Everything that defines a run; written to ``config.yaml`` in the run directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str = Field(min_length=1, description="the suite: a bundled or installed suite's name, or a suite folder")
    prover: ProverConfig = Field(default_factory=ProverConfig, description="the prover: `name` and its own settings")
    n: int = Field(default=1, ge=1, le=10_000, description="samples per problem")
    k: list[int] | None = Field(default=None, description="pass@k values to report (default: 1..n)")
    repair_rounds: int = Field(
        default=0, ge=0, le=100, description="further rounds of a failed sample, each shown the checker's reply"
    )
    prover_connections: int = Field(default=8, ge=1, le=1024, description="prover requests in flight at once")
    checkers: int | None = Field(
        default=None, ge=1, le=MAX_CHECKERS, description="warm checkers per context (default: PROVEBENCH_CHECKERS)"
    )
    timeout_s: TimeoutSeconds | None = Field(default=None, description="per-check timeout for every problem")
    infra_retries: int = Field(default=2, ge=0, le=20, description="retries of a check whose checker failed")
    categories: list[str] = Field(default_factory=list, description="only the problems of these categories")
    problems: list[str] = Field(default_factory=list, description="only these problem ids")
    problems_file: Path | None = Field(
        default=None, description="a file of more problem ids, one per line (# starts a comment)"
    )
    limit: int | None = Field(default=None, ge=1, le=MAX_COUNT, description="a seeded random subset of this many")
    seed: int = Field(default=0, ge=-(2**63), le=2**63 - 1, description="seed of that subset")
    out: Path | None = Field(default=None, description="the run directory (default: runs/<UTC time>-<suite>-<prover>)")
    # combibench: also judge every proof as CombiBench's own harness does, and report both scores.
    protocol: Literal["provebench", "combibench"] = "provebench"

    @model_validator(mode="after")
    def _k_within_n(self) -> RunConfig:
        if self.k is not None:
            bad = [k for k in self.k if not 1 <= k <= self.n]
            if bad:
                raise ValueError(f"k values must be between 1 and n={self.n} (got {bad})")
        return self

    @property
    def ks(self) -> list[int]:
        """The pass@k values reported."""
        return sorted(set(self.k)) if self.k else list(range(1, self.n + 1))


def _first_error(exc: ValidationError) -> str:
    where, msg = first_error(exc)
    return f"'{where}': {msg}" if where else msg


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a run config file; one-line errors."""
    data = read_yaml(path, "config file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: a run config is a mapping of settings")
    return _resolve_paths(data, path.resolve().parent)


_PATH_KEYS = ("problems_file", "out")
_PROVER_PATH_KEYS = ("answers", "portfolio", "prompt_dir")


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths in a config file are relative to the file, so a run can be resumed from anywhere."""

    def fix(value: Any) -> Any:
        return str(base / value) if isinstance(value, str) and value and not Path(value).is_absolute() else value

    out = {k: fix(v) if k in _PATH_KEYS else v for k, v in data.items()}
    if isinstance(out.get("prover"), dict):
        out["prover"] = {k: fix(v) if k in _PROVER_PATH_KEYS else v for k, v in out["prover"].items()}
    return out


def build_config(base: dict[str, Any], overrides: dict[str, Any], source: str) -> RunConfig:
    """Merge command-line ``overrides`` over ``base``; a new prover name drops the old prover's settings."""
    merged = dict(base)
    prover = dict(merged.get("prover") or {}) if isinstance(merged.get("prover"), dict) else merged.get("prover")
    if isinstance(prover, str):
        prover = {"name": prover}
    prover_overrides = overrides.pop("prover", {})
    if prover_overrides:
        if not isinstance(prover, dict):
            prover = {}
        new_name = prover_overrides.get("name")
        if new_name is not None and new_name != prover.get("name", "baseline"):
            prover = {}
        prover.update(prover_overrides)
    if prover is not None:
        merged["prover"] = prover
    merged.update({k: v for k, v in overrides.items() if v is not None})
    if merged.get("protocol") == "combibench" and "n" not in merged:
        merged["n"] = COMBIBENCH_SAMPLES
    if "suite" not in merged:
        raise UserError("say which suite to run: --suite NAME (or suite: in --config)")
    try:
        return RunConfig.model_validate(merged)
    except ValidationError as exc:
        raise UserError(f"{source}: {_first_error(exc)}") from None


def write_config(config: RunConfig, path: Path) -> None:
    """Write the resolved config as YAML, whole or not at all."""
    data = config.model_dump(mode="json", exclude_none=True)
    write_atomic(path, yaml.safe_dump(data, sort_keys=False))


def read_ids_file(path: Path) -> list[str]:
    """Problem ids, one per line (blank lines and # comments ignored)."""
    lines = read_lines(path, "problems file")
    ids = [line.split("#", 1)[0].strip() for line in lines]
    return [i for i in ids if i]
