"""Explicit configuration, read once in ``main()`` and passed down."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from provebench.core.inputs import MAX_CHECKERS, MAX_INPUT_BYTES, MAX_MEMORY_MB, TimeoutSeconds

if TYPE_CHECKING:
    from collections.abc import Sequence

    from provebench.core.model import Problem


class Backend(str, Enum):
    """Where checkers run."""

    DOCKER = "docker"
    LOCAL = "local"  # the host's own hol-light: for development only, not a sandbox


class Executor(str, Enum):
    """What runs the warm checkers."""

    LOCAL = "local"  # containers started by this process
    RAY = "ray"  # one Ray actor per warm checker, on the nodes of a Ray cluster


class CheckerBuild(str, Enum):
    """How a HOL Light checker runs proofs: in the bytecode toplevel, or compiled to native code."""

    BYTECODE = "bytecode"
    NATIVE = "native"


class Settings(BaseSettings):
    """Settings from ``PROVEBENCH_*`` environment variables; flags override them."""

    model_config = SettingsConfigDict(env_prefix="PROVEBENCH_", extra="ignore")

    backend: Backend = Field(default=Backend.DOCKER, description="where checkers run: containers, or the host (local)")
    checkers: int = Field(
        default_factory=lambda: max(1, min(MAX_CHECKERS, os.cpu_count() or 1)),
        ge=1,
        le=MAX_CHECKERS,
        description="warm checkers per context (default: one per core; as many of them as fit the memory budget)",
    )
    memory_mb: int = Field(default=4096, ge=256, le=MAX_MEMORY_MB, description="address-space limit of one check")
    lean_memory_mb: int = Field(
        default=12288, ge=512, le=MAX_MEMORY_MB, description="address-space limit of one Lean REPL"
    )
    lean_max_uses: int = Field(default=200, ge=1, le=1_000_000, description="commands before a Lean REPL is recycled")
    benchmark_judge: bool = Field(
        default=False, description="also judge proofs as the benchmark's own harness does (a run's protocol)"
    )
    lean_repl_command: str | None = Field(
        default=None, description="--backend local: the REPL command, e.g. 'lake env /opt/repl/.lake/build/bin/repl'"
    )
    lean_project_dir: Path | None = Field(default=None, description="--backend local: the Mathlib project folder")
    lean_judge_command: str | None = Field(
        default=None,
        description="--backend local: the trusted judge, comparator, e.g. 'lake env comparator' (none: the REPL alone)",
    )
    lean_judge_project: Path | None = Field(
        default=None, description="--backend local: a Lake project requiring Mathlib, copied for each judgement"
    )
    container_headroom_mb: int = Field(
        default=2048,
        ge=256,
        le=MAX_MEMORY_MB,
        description="container memory above one check's limit (the loaded toplevel)",
    )
    pids_limit: int = Field(  # the kernel's pid_max at most
        default=256, ge=16, le=1 << 22, description="processes a checker container may run at once"
    )
    memory_budget_mb: int | None = Field(
        default=None,
        ge=512,
        le=MAX_MEMORY_MB,
        description="memory all warm checkers may reserve together (default: 80% of RAM)",
    )
    load_timeout_s: TimeoutSeconds = Field(default=900.0, description="silence allowed while loading, if not computing")
    infra_retries: int = Field(default=2, ge=0, le=20, description="retries of a check whose checker failed")
    infra_backoff_s: float = Field(
        default=1.0, ge=0, le=3600, allow_inf_nan=False, description="first wait before such a retry (then doubling)"
    )
    max_proof_bytes: int = Field(
        default=1_000_000, ge=1, le=MAX_INPUT_BYTES, description="longer proofs FAIL `too-large`, unchecked"
    )
    server: str | None = Field(
        default=None, description="check through the provebench service at this URL instead of local checkers"
    )
    server_token: str | None = Field(default=None, description="the bearer token of that service, if it wants one")
    executor: Executor = Field(default=Executor.LOCAL, description="where warm checkers run: here, or on Ray actors")
    ray_address: str | None = Field(
        default=None, description="--executor ray: the cluster to join (default: start a local Ray instance)"
    )
    checker_build: CheckerBuild | None = Field(
        default=None,
        description="HOL Light: bytecode or native checkers (default: the suite's `checker`, else bytecode)",
    )
    compiled_contexts: bool = Field(
        default=True,
        description="native checkers load the contexts their image compiled (s2n-bignum's base.ml) in place of"
        " their text; false: walk the text, as bytecode checkers do",
    )
    image_revision: str | None = Field(
        default=None, description="check in the image built from this commit of the suite's outside source"
    )
    base_image: str = Field(default="debian:sid", description="the image checker images are built on")
    image_namespace: str = Field(
        default="provebench",
        pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$",
        description="the repository part of checker image tags (<namespace>/<recipe>:<hash>)",
    )
    recipe_root: Path | None = Field(
        default=None,
        description="build checker images from the containers/ and harness/ under this folder instead of "
        "provebench's own (for developing a checker; its images get the recipe hash of these sources)",
    )
    debian_mirror: str = Field(
        default="http://deb.debian.org/debian", description="the mirror a base image is made from if none is pulled"
    )
    apt_ignore_valid_until: bool = Field(
        default=False, description="accept an expired Release file (frozen mirror snapshots)"
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "provebench",
        description="build logs, compiled harnesses, and the checks an interrupted `leaderboard add` resumes from",
    )
    reply_cache_dir: Path | None = Field(
        default=None,
        description="the reply cache: every prover reply, by its request, reused by later runs "
        "(default: <cache_dir>/replies; `run --no-cache` neither reads nor writes it)",
    )
    suites_dir: Path = Field(
        default=Path.home() / ".local" / "share" / "provebench" / "suites",
        description="the user's suites, found by name after the bundled ones (`suites import` writes here)",
    )
    hol_light_dir: Path = Field(
        default=Path("/usr/share/hol-light"), description="--backend local: the host's HOL Light"
    )


def memory_budget_mb(settings: Settings) -> int:
    """What all warm checkers may reserve together: the setting, or 80% of this machine's memory."""
    if settings.memory_budget_mb is not None:
        return settings.memory_budget_mb
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.8) // (1024 * 1024)


def checker_memory_mb(settings: Settings) -> int:
    """The memory one checker container reserves: one check's limit and the loaded toplevel."""
    return settings.memory_mb + settings.container_headroom_mb


def checkers_in_budget(settings: Settings) -> int:
    """How many of the requested warm checkers fit the memory budget (at least one)."""
    return max(1, min(settings.checkers, memory_budget_mb(settings) // checker_memory_mb(settings)))


def sized_settings(settings: Settings, problems: Sequence[Problem]) -> Settings:
    """The settings of checkers for these problems: one check's memory limit and a checker's above it."""
    return settings.model_copy(
        update={
            "memory_mb": check_memory_mb(settings, problems),
            "container_headroom_mb": context_memory_mb(settings, problems),
        }
    )


def context_memory_mb(settings: Settings, problems: Sequence[Problem]) -> int:
    """A checker's memory above one check's limit: the user's headroom, else the most the suite asks for."""
    if "container_headroom_mb" in settings.model_fields_set:
        return settings.container_headroom_mb
    asked = (p.context_memory_mb for p in problems if p.context_memory_mb is not None)
    return max(asked, default=settings.container_headroom_mb)


def check_memory_mb(settings: Settings, problems: Sequence[Problem]) -> int:
    """One check's memory limit: the user's, else what the suite asks for, else the default."""
    if "memory_mb" in settings.model_fields_set:
        return settings.memory_mb
    return max((p.memory_mb for p in problems if p.memory_mb is not None), default=settings.memory_mb)


def reply_cache_folder(settings: Settings) -> Path:
    """Where prover replies are cached: the setting, or ``replies`` in the cache folder."""
    return settings.reply_cache_dir if settings.reply_cache_dir is not None else settings.cache_dir / "replies"
