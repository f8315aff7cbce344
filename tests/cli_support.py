"""Running the command line in-process as a user would, and what a refusal must look like."""

from __future__ import annotations

import pytest

from provebench.cli.main import main


def refused_in_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str, code: int = 2) -> str:
    """Run ``provebench ARGV``: it must exit ``code`` with one short line holding ``fragment``, no traceback."""
    got = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert got == code, err[:400]
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err, err[:400]
    assert len(lines[0]) < 400, lines[0][:400]
    return lines[0]
