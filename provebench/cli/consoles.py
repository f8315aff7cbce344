"""Where the commands print: results on stdout, progress and errors on stderr, the library's notes dim."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.text import Text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class DimLines(logging.Handler):
    """Progress notes of the library (walks through large templates) as dim lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        """One dim line."""
        err.print(Text(self.format(record), style="dim"))


def dim(line: str) -> None:
    """A progress line on stderr, dim and printed as it is (no markup)."""
    err.print(line, style="dim", markup=False)
