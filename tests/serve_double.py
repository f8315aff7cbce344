"""``provebench serve ARGS`` in its own process, its checkers a scripted verifier DOUBLE that loads slowly.

For the tests of what the service logs: ``python -m tests.serve_double LOAD_SECONDS ARGS...`` runs the CLI
as a user does (its signal handling included); only the checker is the double, each load taking
LOAD_SECONDS so that a signal can arrive while one loads. Settings come from ``PROVEBENCH_*``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from provebench.checking.engine import Engine
from provebench.cli import serve as cli_serve
from provebench.cli.main import main
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if


class SlowLoad(ScriptedVerifierDouble):
    """A double whose context takes a while to load, as a real checker's does."""

    load_s = 0.0

    def prepare(self) -> None:
        time.sleep(self.load_s)
        super().prepare()


def doubled(settings: Any) -> Engine:
    return Engine(settings, lambda _s, _p: SlowLoad(passes_if("X")))


if __name__ == "__main__":
    SlowLoad.load_s = float(sys.argv[1])
    cli_serve.Engine = doubled  # type: ignore[attr-defined,assignment]  # what cmd_serve serves with
    sys.exit(main(["serve", *sys.argv[2:]]))
