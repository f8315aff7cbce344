"""The Lean verifier of a group of problems, on the configured backend (the image's checkers, or the host's)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from provebench import containers
from provebench.containers.engine import DockerEngine
from provebench.core.errors import UserError
from provebench.core.model import CheckerInfo, Problem, System
from provebench.core.settings import Backend, Settings, checker_memory_mb, checkers_in_budget
from provebench.systems.lean.judge_run import ContainerJudge, LocalJudge
from provebench.systems.lean.session import DockerLeanLauncher, LocalLeanLauncher
from provebench.systems.lean.verifier import LeanVerifier

JUDGE_PIDS = 4096


def make_lean_group_verifier(settings: Settings, problems: Sequence[Problem]) -> LeanVerifier:
    """The Lean verifier of problems sharing one header: the image's checkers judge with comparator."""
    first = problems[0]
    # REPLs are counted by memory, not by cores.
    sized = settings.model_copy(update={"memory_mb": settings.lean_memory_mb})
    common: dict[str, Any] = dict(
        header=first.context,
        checkers=checkers_in_budget(sized),
        max_proof_bytes=settings.max_proof_bytes,
        load_timeout_s=settings.load_timeout_s,
        benchmark_judge=settings.benchmark_judge,
    )
    if settings.backend is Backend.LOCAL:
        if not settings.lean_repl_command:
            raise UserError("--backend local for Lean needs PROVEBENCH_LEAN_REPL_COMMAND (and _LEAN_PROJECT_DIR)")
        launcher = LocalLeanLauncher(
            shlex.split(settings.lean_repl_command),
            str(settings.lean_project_dir) if settings.lean_project_dir else None,
            memory_mb=settings.lean_memory_mb,
            max_uses=settings.lean_max_uses,
        )
        # A host checker's identity says whether its PASS comes from the trusted judge or the REPL alone.
        version = "local, judged by comparator" if settings.lean_judge_command else "local, REPL only"
        info = CheckerInfo(
            image="local", digest="local", system=System.LEAN4, version=version, recipe="local", packages="local"
        )
        project = str(settings.lean_judge_project) if settings.lean_judge_project else None
        judge = LocalJudge(settings.lean_judge_command, project) if settings.lean_judge_command else None
        return LeanVerifier(launcher, info, judge=judge, **common)
    engine = DockerEngine(settings)
    r, revision = containers.parse_image_ref(first.checker_image)
    built = engine.ensure_image(r, lambda _line: None, revision)
    limits = containers.SandboxLimits(memory_mb=checker_memory_mb(sized), pids=settings.pids_limit)
    docker_launcher = DockerLeanLauncher(engine, built, limits, settings.lean_memory_mb, settings.lean_max_uses)
    # Never in a checker's own container. Lake, Lean, lean4export and comparator each start a thread per
    # core: on a large host the checkers' pids limit would fail an honest build, so the judge has more.
    judge_limits = containers.SandboxLimits(memory_mb=limits.memory_mb, pids=max(limits.pids, JUDGE_PIDS))
    judge_in_container = ContainerJudge(engine, built, judge_limits)
    return LeanVerifier(docker_launcher, built.checker_info(), judge=judge_in_container, **common)
