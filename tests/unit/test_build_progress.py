"""Image build output: one line per step off a terminal, every line in the log, the log named on failure.

The lines are Docker's classic builder's own (``Step N/M : ...``) and apt's; the real build is run by
``make test`` (``images build hol-light``) and tests/integration/test_image_revisions.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from provebench.containers.build_progress import BuildProgress
from provebench.core.errors import UserError

LINES = [
    "Step 1/3 : ARG BASE_IMAGE",
    "Step 2/3 : RUN apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y hol-light",
    "Get:1 http://deb.debian.org/debian sid InRelease [198 kB]",
    "Setting up hol-light (1:3.1.0+git20260619-2+b3) ...",
    "Step 3/3 : COPY harness /opt/provebench/harness",
]


def test_off_a_terminal_each_step_is_one_line_and_the_log_has_everything(tmp_path: Path) -> None:
    screen = io.StringIO()
    with BuildProgress(Console(file=screen, force_terminal=False), tmp_path, "hol-light") as progress:
        for line in LINES:
            progress(line)
    shown = screen.getvalue().splitlines()
    assert [line.split(" (")[0] for line in shown[:3]] == [
        "building hol-light: step 1/3 ARG BASE_IMAGE",
        "building hol-light: step 2/3 RUN apt-get -o Acquire::Check-Valid-Until=false update && apt-get inst",
        "building hol-light: step 3/3 COPY harness /opt/provebench/harness",
    ]
    assert len(shown) == 4 and shown[3].startswith("built hol-light in ") and "Setting up" not in screen.getvalue()
    (log,) = tmp_path.glob("build-hol-light-*.log")
    assert log.read_text().splitlines() == LINES


def test_a_failed_build_names_its_whole_log(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"E: Unable to locate package x; the whole build log: .*build-hol-light-"):
        with BuildProgress(Console(file=io.StringIO()), tmp_path, "hol-light") as progress:
            progress("Step 1/1 : RUN apt-get install x")
            raise UserError("building hol-light failed: E: Unable to locate package x")
