"""The Lean REPL double's input handling where the real REPL's recorded transcripts do not reach.

What the REPL does here is read from its source (REPL/Main.lean at the pin: ``getLines`` and the loop);
the transcripts themselves are replayed by tests/integration/test_lean_repl_conformance.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "doubles" / "lean_repl.py")]


def _run(given: str) -> tuple[list[dict[str, Any]], int, str]:
    done = subprocess.run(DOUBLE, input=given, capture_output=True, text=True, timeout=60, check=False)
    replies = [json.loads(block) for block in done.stdout.split("\n\n") if block.strip()]
    return replies, done.returncode, done.stderr


def test_a_request_starting_with_a_comment_is_skipped_whole() -> None:
    # The check is on the joined request, so a comment line before a command takes the command with it.
    given = '# a note\n\n-- a note\n{"cmd": "def f := 1"}\n\n{"cmd": "def g := 2", "gc": true}\n\n'
    assert _run(given) == ([{"env": 0}], 0, "")


def test_a_request_s_lines_are_joined_without_their_breaks() -> None:
    # Each line is right-trimmed only: `by` + `sorry` is the identifier `bysorry`; `by` + `  sorry` is a sorry.
    assert _run('{"cmd": "theorem t : True := by   \nsorry"}\n\n')[0] == [{"env": 0}]
    (reply,), _, _ = _run('{"cmd": "theorem t : True := by\n  sorry"}\n\n')
    assert reply["sorries"][0]["pos"] == {"line": 1, "column": 24}
    (reply,), _, _ = _run('{"cmd": "theorem t : True := by\\n  sorry"}\n\n')  # an escaped newline stays
    assert reply["sorries"][0]["pos"] == {"line": 2, "column": 2}


def test_a_second_blank_line_is_an_empty_request_that_ends_the_repl() -> None:
    replies, code, err = _run('{"cmd": "def f := 1"}\n\n\n{"cmd": "def g := 2"}\n\n')
    assert replies == [{"env": 0}] and code == 1 and "uncaught exception" in err


def test_a_request_of_no_kind_ends_the_repl() -> None:
    for given in ('{"command": "def f := 1"}\n\n', '{"cmd": "def f := 1", "env": -1}\n\n', "[1]\n\n"):
        replies, code, err = _run(given)
        assert replies == [] and code == 1 and "Could not parse as a valid JSON command" in err, given
