"""The comparator double (tests/doubles/comparator.py) against Lean FRO comparator's own test projects.

comparator's tests are ``tests/projects/<case>/{config.json,test.json,Challenge.lean,Solution.lean}``; its
``runtests.lean`` copies each project to a temporary directory, runs ``lake env comparator config.json`` there
and requires the exit code ``test.json`` gives. Here the double runs the same way, on the projects read from a
checkout named by PROVEBENCH_COMPARATOR_SRC (branch pre-v25, 97ef939, the v4.24.0 revision). There is no
GitHub here: extract the projects from the mirror with

    git --git-dir=/work/.mirror/leanprover+comparator/repo archive pre-v25 tests | tar -x -C DIR

and set PROVEBENCH_COMPARATOR_SRC=DIR. Without it (or without DIR/tests/projects) these tests skip.

A case the double cannot judge without Lean goes in KNOWN_GAPS with the reason; a known gap that starts
agreeing fails, so that it leaves the list. Where comparator's source says which check fails a case
(SOURCE_MESSAGES: read from Main.lean, Comparator/Compare.lean and Comparator/Axioms.lean, not observed, as
no Lean runs here), the double must fail with that message too, not merely with exit code 1. A case the double
fails by a rule of its own rather than comparator's is in OTHER_RULE, with the double's message pinned.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.upstream

DOUBLE = Path(__file__).resolve().parents[1] / "doubles" / "comparator.py"
SRC = os.environ.get("PROVEBENCH_COMPARATOR_SRC", "")
PROJECTS = Path(SRC) / "tests" / "projects"

# Cases where the double's exit code differs from comparator's: none at pre-v25.
KNOWN_GAPS: dict[str, str] = {}

# Cases the double fails by its own conservative rule, where comparator fails them in a step it cannot do.
OTHER_RULE: dict[str, tuple[str, str]] = {
    "olean_issue": (
        "Challenge and solution theorem statement do not match: 'boom'",
        "comparator rejects the constant `badNat` that a `run_elab` metaprogram adds with an out-of-range Nat "
        "literal (built through unsafeCast and implemented_by), in its export or kernel replay; the double runs "
        "neither and cannot see the declaration, but a metaprogram (and an `open`) the challenge lacks, before "
        "`boom`, is a change of elaboration context it cannot rule out",
    ),
}

# The failure comparator's source gives for each failing case (the stack order of its worklists included).
SOURCE_MESSAGES = {
    "def_hole_axiom_issue": "Illegal axiom detected: 'sorryAx'",
    "def_hole_kind_mismatch": "Solution constant is not a definition: 'n'",
    "def_hole_type_mismatch": "Const does not match between challenge and target 'n'",
    "opaque_value": "Illegal axiom detected: 'f'",
    # Solution redefines Nat.gcd and four bitwise primitives under `prelude`; the primitives are compared from the
    # top of the worklist down, after the statement's `False`: Nat.shiftRight is the first that differs.
    "primitive_issue": "Const does not match between challenge and target 'Nat.shiftRight'",
    "simple_axiom_issue": "Illegal axiom detected: 'helper'",
    "simple_kind_mismatch": "Illegal axiom detected: 'helper'",  # upstream's copy of simple_axiom_issue
    "simple_mismatch": "Challenge and solution constant kind don't match: 'comm'",
}


def _cases() -> list[str]:
    if not PROJECTS.is_dir():
        return []
    return sorted(p.name for p in PROJECTS.iterdir() if (p / "test.json").is_file())


def _skip_without_checkout() -> None:
    if not SRC:
        pytest.skip("PROVEBENCH_COMPARATOR_SRC is not set (a comparator checkout, or its tests/ extracted)")
    if not PROJECTS.is_dir():
        pytest.skip(f"PROVEBENCH_COMPARATOR_SRC has no tests/projects ({PROJECTS})")


def test_the_lists_name_real_cases() -> None:
    _skip_without_checkout()
    cases = set(_cases())
    assert len(cases) >= 11, cases
    for listed in (KNOWN_GAPS, OTHER_RULE, SOURCE_MESSAGES):
        assert set(listed) <= cases, set(listed) - cases
    assert not set(KNOWN_GAPS) & (set(OTHER_RULE) | set(SOURCE_MESSAGES))


@pytest.mark.parametrize("case", _cases() or ["(no checkout)"])
def test_the_double_agrees_with_comparators_test(case: str, tmp_path: Path) -> None:
    _skip_without_checkout()
    project = PROJECTS / case
    expected = json.loads((project / "test.json").read_text())["exit_code"]
    work = tmp_path / case
    shutil.copytree(project, work)
    done = subprocess.run(
        [sys.executable, str(DOUBLE), "config.json"], cwd=work, capture_output=True, text=True, timeout=120, check=False
    )
    agrees = done.returncode == expected  # runtests.lean's own comparison
    if case in KNOWN_GAPS:
        assert not agrees, f"{case} now agrees with comparator: take it out of KNOWN_GAPS ({KNOWN_GAPS[case]})"
        return
    assert agrees, f"{case}: exit code {done.returncode}, comparator's test expects {expected}\n{done.stderr}"
    if expected == 0:
        assert done.stdout.splitlines()[-1] == "Your solution is okay!"
    elif case in OTHER_RULE:
        assert done.stderr == f"uncaught exception: {OTHER_RULE[case][0]}\n"
    elif case in SOURCE_MESSAGES:
        assert done.stderr == f"uncaught exception: {SOURCE_MESSAGES[case]}\n"
