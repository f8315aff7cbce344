"""harness/lean/judge.py, the runner of the trusted judge, and the driver's ``judge`` op that starts it.

comparator itself is not here (no Lean toolchain): a stand-in command shows what judge.py gives the judge
(a fresh folder with Challenge.lean, Solution.lean and comparator's config.json) and what it does with
the judge's exit code, output and time. The stand-in is not a double of comparator; that is
tests/doubles/comparator.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provebench.errors import VerifierUnavailable
from provebench.verify.lean_session import LeanSession, LocalLeanLauncher

ROOT = Path(__file__).resolve().parents[2]
JUDGE = ROOT / "harness" / "lean" / "judge.py"
REPL_DOUBLE = [sys.executable, str(ROOT / "tests" / "doubles" / "lean_repl.py")]
# Prints what it was given (its folder, the files, the config), then comparator's success line.
SHOW = (
    "import json, os, sys; cfg = json.load(open(sys.argv[1])); "
    "print(json.dumps({'cwd': os.getcwd(), 'files': sorted(os.listdir('.')), 'config': cfg, "
    "'solution': open(cfg['solution_module'] + '.lean').read()})); print('Your solution is okay!')"
)
REQUEST: dict[str, Any] = {
    "challenge": "import Mathlib\ntheorem t : 1 + 1 = 2 := by sorry\n",
    "solution": "import Mathlib\ntheorem t : 1 + 1 = 2 := by norm_num\n",
    "theorem_names": ["t"],
    "definition_names": [],
    "permitted_axioms": ["Classical.choice", "Quot.sound", "propext"],
    "timeout_s": 30,
}


def _judge(comparator: str, request: dict[str, Any], *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(JUDGE), "--comparator", comparator, *extra],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_judge_gets_a_fresh_folder_with_both_files_and_comparator_s_config(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "lakefile.toml").write_text('name = "judge"\n')
    answer = _judge(f"{sys.executable} -c {json.dumps(SHOW)}", REQUEST, "--template", str(template))
    assert answer["ok"] is True and answer["exit_code"] == 0 and answer["timed_out"] is False
    seen = json.loads(answer["output"].splitlines()[0])
    assert seen["files"] == ["Challenge.lean", "Solution.lean", "config.json", "lakefile.toml"]
    assert seen["solution"] == REQUEST["solution"]
    assert seen["config"] == {
        "challenge_module": "Challenge",
        "solution_module": "Solution",
        "theorem_names": ["t"],
        "definition_names": [],
        "permitted_axioms": ["Classical.choice", "Quot.sound", "propext"],
        "enable_nanoda": False,
    }
    assert not Path(seen["cwd"]).exists()  # removed after the judgement


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("print('Your solution is okay!'); raise SystemExit(1)", "the closing line with a failing exit code"),
        ("print('Your solution is okay!'); print('more')", "exit 0 without the closing line last"),
    ],
)
def test_okay_needs_both_exit_code_zero_and_the_closing_line(script: str, why: str) -> None:
    assert _judge(f"{sys.executable} -c {json.dumps(script)}", REQUEST)["ok"] is False, why


def test_a_judge_over_its_time_is_killed_with_what_it_started() -> None:
    # The stand-in starts a child that would outlive it and says its pid; both go at the limit.
    script = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        "print(c.pid, flush=True); time.sleep(600)"
    )
    answer = _judge(f"{sys.executable} -c {json.dumps(script)}", REQUEST | {"timeout_s": 1})
    assert answer["timed_out"] is True and answer["ok"] is False and answer["exit_code"] is None
    child = int(answer["output"].split()[0])
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the judge's child outlived the judgement"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_driver_runs_the_judge_and_says_when_there_is_none() -> None:
    show = f"{sys.executable} -c {json.dumps(SHOW)}"
    with_judge = LeanSession(LocalLeanLauncher(REPL_DOUBLE, judge_command=show), "import Mathlib", 60)
    without = LeanSession(LocalLeanLauncher(REPL_DOUBLE), "import Mathlib", 60)
    try:
        with_judge.start()
        answer = with_judge.judge(REQUEST)
        assert answer["ok"] is True and "Solution.lean" in answer["output"]
        without.start()
        with pytest.raises(VerifierUnavailable, match="no-judge"):
            without.judge(REQUEST)
    finally:
        with_judge.close()
        without.close()
