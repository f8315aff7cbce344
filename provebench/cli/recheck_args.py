"""The grammar of ``provebench recheck`` and ``import-inspect`` (part of ``args.py``'s): importing nothing heavy."""

from __future__ import annotations

import argparse
from typing import Any

from provebench.cli.options import executor_options, server_option


def add_recheck_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``recheck`` subcommand."""
    rc = sub.add_parser(
        "recheck",
        parents=[common],
        help="check every attempt of a finished run again with today's checkers, into a new run directory",
        description="Check the proof of every attempt of a finished run again, with this provebench's checkers "
        "(--checker bytecode|native for HOL Light), without calling the prover: the proofs are in the run's "
        "journal. The attempts are kept as they were, repair rounds included, and no round is added (a sample "
        "that passes now in an early round keeps its later rounds; one that fails now gets no new one). Writes a "
        "new run directory (--out, which must not exist) with the same files as a run's, and prints each verdict "
        "that changed (problem, sample, round: old -> new) and pass@k before and after. Exit codes: 0 no verdict "
        "changed, 1 some did, 2 bad usage or input, 3 a checker unavailable or a check ended in ERROR, "
        "130 interrupted.",
    )
    rc.add_argument("rundir", help="a finished run directory")
    rc.add_argument("--out", required=True, help="the new run directory to write (must not exist)")
    rc.add_argument("--json", action="store_true", help="print the changes and both summaries as JSON")
    rc.add_argument("--no-progress", action="store_true", help="no live progress bar")
    server_option(rc)
    executor_options(rc)


def add_import_inspect_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``import-inspect`` subcommand."""
    ii = sub.add_parser(
        "import-inspect",
        parents=[common],
        help="turn an Inspect log of provebench/suite into a run directory, every proof checked again",
        description="Read an Inspect log of the provebench/suite task (inspect eval provebench/suite ...; needs "
        "pip install 'provebench[inspect]') and write a run directory from it: each epoch a sample, each "
        "repair round an attempt. Only the model's replies are taken from the log: the proofs are extracted "
        "again and every one is checked again here, as recheck does, so report, submit and leaderboard add work "
        "on the run as on any other. The suite must be the one the eval ran on (its content hash). Prints where "
        "a verdict differs from the log's score. Exit codes: 0 imported with every verdict as the log scored it, "
        "1 some differ, 2 bad usage or input, 3 a checker unavailable or a check ended in ERROR, 130 interrupted.",
    )
    ii.add_argument("log", help="an Inspect log file (.eval or .json) of provebench/suite")
    ii.add_argument("--out", required=True, help="the new run directory to write (must not exist)")
    ii.add_argument("--no-progress", action="store_true", help="no live progress bar")
    server_option(ii)
    executor_options(ii)
