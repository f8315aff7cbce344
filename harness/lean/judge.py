"""provebench's trusted Lean judge: Lean FRO's comparator on one candidate, in a project folder of its own.

Runs with the image's python3 and its standard library only, in a fresh container of the image for each
judgement (provebench/systems/lean/judge_run.py starts it; on the host with --backend local).
Reads one JSON request on stdin:
  {"challenge": TEXT, "solution": TEXT, "theorem_names": [...], "definition_names": [...],
   "permitted_axioms": [...], "timeout_s": T}
makes a fresh folder (a copy of the template project, when one is given), writes Challenge.lean,
Solution.lean and comparator's config.json there, runs the comparator command in it with the time
limit, removes the folder, and prints one JSON line:
  {"ok": BOOL, "exit_code": N | null, "timed_out": BOOL, "challenge_started": BOOL,
   "solution_started": BOOL, "output": TEXT (its first 16 KB and last 64 KB), "seconds": S}
``ok`` is comparator's own judgement: exit 0 and its closing line. Nothing the candidate wrote is
elaborated by this process: comparator builds both files, exports them with lean4export, compares the
statement's constants structurally, checks the axioms and replays the solution in Lean's kernel.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

OKAY = "Your solution is okay!"  # comparator's last line on success
SOLUTION_STEP = b"\nBuilding Solution\n"  # comparator's line before it builds the candidate
CHALLENGE_STEP = b"\nBuilding Challenge\n"  # its first step: it ran, and builds the statement's file
KEPT_HEAD, KEPT_TAIL = 16 * 1024, 64 * 1024


def _config(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "challenge_module": "Challenge",
        "solution_module": "Solution",
        "theorem_names": list(request["theorem_names"]),
        "definition_names": list(request.get("definition_names", [])),
        "permitted_axioms": list(request["permitted_axioms"]),
        "enable_nanoda": False,  # required by comparator's pre-v25 config; nanoda is not in the image
    }


def _project(template: Path | None, request: dict[str, Any]) -> Path:
    where = Path(tempfile.mkdtemp(prefix="pb-judge-"))
    if template is not None:
        shutil.copytree(template, where, dirs_exist_ok=True, symlinks=True)
    (where / "Challenge.lean").write_text(request["challenge"])
    (where / "Solution.lean").write_text(request["solution"])
    (where / "config.json").write_text(json.dumps(_config(request)))
    return where


def judge(command: list[str], template: Path | None, request: dict[str, Any]) -> dict[str, Any]:
    """Run comparator on one request; its process group is killed at the time limit."""
    where = _project(template, request)
    t0 = time.monotonic()
    try:
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(
                [*command, "config.json"],
                cwd=where,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code: int | None = proc.wait(timeout=float(request["timeout_s"]))
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code, timed_out = None, True
            challenge_started = _step_seen(out, CHALLENGE_STEP)
            started = _step_seen(out, SOLUTION_STEP)
            output = _kept(out)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    ok = code == 0 and output.rstrip().endswith(OKAY)
    return {
        "ok": ok,
        "exit_code": code,
        "timed_out": timed_out,
        "challenge_started": challenge_started,
        "solution_started": started,
        "output": output,
        "seconds": time.monotonic() - t0,
    }


def _step_seen(out: BinaryIO, step: bytes) -> bool:
    """Whether comparator got to a step: its line before it, looked for in the whole output.

    comparator builds and exports the statement first, flushing its progress lines before each step, so
    the solution's line precedes anything the candidate's build prints, however much that is.
    """
    out.seek(0)
    carry = b"\n"
    while chunk := out.read(1 << 20):
        if step in carry + chunk:
            return True
        carry = chunk[-len(step) :]
    return False


def _kept(out: BinaryIO) -> str:
    """The output's head and tail: comparator's first lines and its last message, whatever lies between."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    if size <= KEPT_HEAD + KEPT_TAIL:
        return out.read().decode("utf-8", errors="replace")
    head = out.read(KEPT_HEAD)
    out.seek(size - KEPT_TAIL)
    return (head + b"\n[...]\n" + out.read()).decode("utf-8", errors="replace")


def main() -> None:
    """One judgement: the request on stdin, the answer on stdout."""
    ap = argparse.ArgumentParser(description="provebench's trusted Lean judge (comparator)")
    ap.add_argument("--comparator", required=True, help="the comparator command (shell words), run in the project")
    ap.add_argument("--template", type=Path, help="a project folder copied for each judgement (lakefile, packages)")
    args = ap.parse_args()
    request = json.loads(sys.stdin.read())
    print(json.dumps(judge(shlex.split(args.comparator), args.template, request)))


if __name__ == "__main__":
    main()
