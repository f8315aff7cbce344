"""What an image build shows: a progress line on a terminal, one line per step elsewhere, all of it in a log.

Docker's classic builder says ``Step N/M : INSTRUCTION`` at each step, between hundreds of lines of
apt and compiler output. Those lines go to a log file only (named in the error when the build
fails); the user sees the step, its instruction and the time since the build began.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.status import Status

from provebench.core.errors import UserError

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_OWN = ("pulling ", "cannot pull ", "importing ", "$ ", "fetching ", "cloning ")  # provebench's own lines


class BuildProgress:
    """A build's progress callback and log; use as a context manager around the build."""

    def __init__(self, console: Console, log_dir: Path, name: str) -> None:
        self._console = console
        self._name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"build-{name.replace('/', '_')}-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self._log: IO[str] = self.log_path.open("w", encoding="utf-8")
        self._t0 = time.monotonic()
        self._step = "starting"
        self._status: Status | None = console.status(self._line()) if console.is_terminal else None

    def _line(self) -> str:
        return f"building {self._name}: {self._step} ({time.monotonic() - self._t0:.0f} s)"

    def __call__(self, line: str) -> None:
        """One line of build output."""
        self._log.write(line + "\n")
        self._log.flush()
        step = _STEP.match(line.strip())
        if step is not None:
            self._step = f"step {step.group(1)}/{step.group(2)} {step.group(3)[:70]}"
        elif line.startswith(_OWN):
            self._step = line[:90]
        else:
            if self._status is not None:
                self._status.update(self._line())
            return
        if self._status is not None:
            self._status.update(self._line())
        else:
            self._console.print(self._line(), style="dim", markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> BuildProgress:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None) -> None:
        if self._status is not None:
            self._status.stop()
        self._log.close()
        if isinstance(exc, UserError):
            raise UserError(f"{exc}; the whole build log: {self.log_path}") from None
        if exc is None:
            self._console.print(
                f"built {self._name} in {time.monotonic() - self._t0:.0f} s (log: {self.log_path})",
                style="dim",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
