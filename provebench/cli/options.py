"""Options that several subcommands share, and the parser class whose errors are one line (exit 2).

Part of the command line's grammar (``cli_args``): imports nothing heavy.
"""

from __future__ import annotations

import argparse
from typing import Any

from provebench.cli.exit_codes import EXIT_USAGE
from provebench.core.bounded import MAX_CHECKERS, MAX_COUNT, MAX_MEMORY_MB, bounded_int
from provebench.core.names import BACKENDS, CHECKER_BUILDS, EXECUTORS

# Argument types several commands share: every number is finite and in range before a command sees it.
COUNT = bounded_int(1, MAX_COUNT, "a positive whole number")
PORT = bounded_int(0, 65535, "a port")


class Parser(argparse.ArgumentParser):
    """argparse, with its own errors as one line and exit code 2."""

    def error(self, message: str) -> Any:
        """Exit 2 with one line."""
        self.exit(EXIT_USAGE, f"provebench: error: {message} (see --help)\n")


def common_options() -> Parser:
    """Options accepted before or after the subcommand."""
    c = Parser(add_help=False)
    c.add_argument("--backend", choices=BACKENDS, default=None, help="where checkers run (default: docker)")
    c.add_argument(
        "--checkers",
        type=bounded_int(1, MAX_CHECKERS, "a number of checkers"),
        default=None,
        help="warm checkers per context (default: one per core, as many as fit the memory budget; `check` of one "
        "proof: 1)",
    )
    c.add_argument(
        "--memory-mb",
        type=bounded_int(256, MAX_MEMORY_MB, "a memory size in MB"),
        default=None,
        help=f"memory limit of one check in MB, 256 to {MAX_MEMORY_MB} (default: the suite's, or 4096)",
    )
    c.add_argument(
        "--checker",
        choices=CHECKER_BUILDS,
        default=None,
        help="HOL Light: run proofs in the bytecode toplevel or compiled to native code (default: the suite's "
        "`checker`, else bytecode; native is faster on long proofs, bytecode on short ones: "
        "docs/guides/native-checkers.md)",
    )
    c.add_argument(
        "--image-revision",
        metavar="COMMIT",
        default=None,
        help="check s2n-bignum problems in the image built from this commit, not the suite's own (verdicts may differ)",
    )
    return c


def server_option(parser: argparse.ArgumentParser) -> None:
    """``--server URL``: check through a running service instead of starting checkers."""
    parser.add_argument(
        "--server",
        metavar="URL",
        help="check through the provebench service at URL (see `provebench serve`) instead of starting "
        "checkers here (default: $PROVEBENCH_SERVER; its token, if any, in $PROVEBENCH_SERVER_TOKEN)",
    )


def executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor local|ray`` and ``--ray-address``: where the warm checkers run."""
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        help="where warm checkers run: containers started here (local, the default) or Ray actors on a Ray "
        "cluster's nodes (ray; needs pip install 'provebench[ray]')",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="--executor ray: join this cluster (as `ray start --head` printed it); default: start a local "
        "Ray instance for this command and stop it at exit",
    )


def suppressed(parser: Parser) -> Parser:
    """The common options, not overwriting values given before the subcommand."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return parser
