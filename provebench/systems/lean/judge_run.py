"""Where the trusted Lean judge runs: a fresh container of the Lean image per judgement, or on the host.

Never in a checker's container: its REPL has elaborated candidates, and a candidate's code run there
(an aesop rule, a tactic of its own) could still be running and reach the judge's folder. A fresh
container has seen nothing but the judgement's own two files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from provebench.containers import resource_root
from provebench.core.errors import VerifierUnavailable

GRACE_S = 60.0  # beyond the judgement's own limit: judge.py kills comparator, answers, and its container ends
JUDGE_IN_IMAGE = [
    "python3",
    "/opt/provebench/harness/lean/judge.py",
    "--template",
    "/opt/judge",
    "--comparator",
    "lake env comparator",
]


def _answer(argv: list[str], request: dict[str, Any], where: str) -> dict[str, Any]:
    """judge.py's one JSON line for one request."""
    try:
        done = subprocess.run(
            argv,
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=float(request["timeout_s"]) + GRACE_S,
            check=False,
        )
        answer = json.loads(done.stdout.decode(errors="replace").strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        raise VerifierUnavailable(f"the trusted judge ({where}) did not answer: {type(exc).__name__}") from None
    if not isinstance(answer, dict):
        raise VerifierUnavailable(f"the trusted judge ({where}) did not answer with an object")
    return answer


class LocalJudge:
    """judge.py on the host, running the comparator command given (``--backend local``; the tests' double)."""

    def __init__(self, comparator: str, project: str | None = None) -> None:
        self._argv = [
            sys.executable,
            str(resource_root() / "harness" / "lean" / "judge.py"),
            "--comparator",
            comparator,
        ]
        self._argv += ["--template", project] if project else []

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        """One judgement."""
        return _answer(self._argv, request, "on this machine")


class ContainerJudge:
    """judge.py in a fresh sandboxed container of the Lean image for each judgement, removed after it."""

    def __init__(self, engine: Any, image: Any, limits: Any) -> None:
        self._engine, self._image, self._limits = engine, image, limits

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        """One judgement in its own container."""
        cid = self._engine.create_checker(self._image, JUDGE_IN_IMAGE, "/tmp", self._limits)
        try:
            return _answer(self._engine.attach_argv(cid), request, f"container {cid[:12]}")
        finally:
            self._engine.remove(cid)
