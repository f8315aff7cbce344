"""Bounds of what a user gives: regular files read whole under a size limit, and finite numbers in range.

On the standard library only: the command-line grammar (``cli_args``) and ``check --server``'s quick path
(``texts``) use it before anything heavy is imported. ``provebench.core.inputs`` re-exports what is here.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

from provebench.core.errors import UserError

# Every file provebench reads from a user is read whole and bounded: a named pipe, /dev/zero or a
# multi-gigabyte file is a one-line error, not a hang or an exhausted machine.
MAX_INPUT_BYTES = 1 << 30

# Bounds of the numbers a user sets (documented in docs/guides/check.md): finite, and within what a machine can mean.
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # one check may run a week at most (s2n-bignum-bench's longest is hours)
MAX_MEMORY_MB = 1 << 20  # one terabyte
MAX_COUNT = 1_000_000_000  # samples, problems, batch lines: more than any benchmark has, far below overflow
MAX_CHECKERS = 64  # warm checkers per context


def read_bytes(path: Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """A regular file's bytes, at most ``max_bytes``; a one-line ``UserError`` for anything else.

    Opened without blocking, so a FIFO is refused instead of waiting for a writer; devices,
    directories and sockets are refused before anything is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise UserError(
            f"{path}: cannot read the {what}: {exc.strerror or errno.errorcode.get(exc.errno or 0)}"
        ) from None
    try:  # before os.fdopen, which raises IsADirectoryError of its own for a directory
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"{path}: is a directory, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{path}: not a regular file (a {what} must be one)")
        if info.st_size > max_bytes:
            raise UserError(f"{path}: {info.st_size} bytes is over the limit of {max_bytes} bytes for a {what}")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        os.set_blocking(fd, True)
        try:
            # read(n) allocates n bytes first: ask for what the file holds, not for the limit. A file that
            # grows meanwhile (or claims size 0, as /proc does) is read on in pieces, up to the limit.
            chunks = [f.read(info.st_size + 1)]
            size = len(chunks[0])
            while info.st_size < size <= max_bytes and chunks[-1]:
                chunks.append(f.read(min(1 << 20, max_bytes + 1 - size)))
                size += len(chunks[-1])
        except OSError as exc:
            raise UserError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    data = b"".join(chunks)
    if len(data) > max_bytes:  # it grew while being read
        raise UserError(f"{path}: over the limit of {max_bytes} bytes for a {what}")
    return data


def finite_seconds(text: str) -> float:
    """An argparse type: seconds, finite, above zero and at most ``MAX_TIMEOUT_S``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be above 0 and at most {MAX_TIMEOUT_S:.0f}")
    return value


def bounded_int(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r}: must be between {low} and {high}")
        return value

    parse.__name__ = what  # argparse names the type in its own messages
    return parse


def bounded_float(low: float, high: float, what: str = "a number", *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text[:40]!r}") from None
        above = value > low if low_open else value >= low
        if not math.isfinite(value) or not above or value > high:
            side = "above" if low_open else "at least"
            raise argparse.ArgumentTypeError(f"{text[:40]!r}: must be {side} {low:g} and at most {high:g}")
        return value

    parse.__name__ = what
    return parse
