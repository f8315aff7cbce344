"""Reading user-supplied files and reporting validation errors, always as one line."""

from __future__ import annotations

import argparse
import errno
import io
import json
import math
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import yaml
from pydantic import Field, ValidationError

from provebench.errors import UserError

# Every file provebench reads from a user is read whole and bounded: a named pipe, /dev/zero or a
# multi-gigabyte file is a one-line error, not a hang or an exhausted machine.
MAX_INPUT_BYTES = 1 << 30
# JSON and YAML nest no deeper than this anywhere outside input arrives (files, bundles, requests):
# provebench's own formats nest a few levels; deeper input is refused before code that recurses sees it.
MAX_DEPTH = 64


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
    try:
        f = os.fdopen(fd, "rb")
    except IsADirectoryError:  # a directory opens read-only (Linux); Python's file object refuses it
        os.close(fd)
        raise UserError(f"{path}: is a directory, not a {what}") from None
    with f:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"{path}: is a directory, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{path}: not a regular file (a {what} must be one)")
        if info.st_size > max_bytes:
            raise UserError(f"{path}: {info.st_size} bytes is over the limit of {max_bytes} bytes for a {what}")
        os.set_blocking(fd, True)
        try:
            data = _read_up_to(f, info.st_size, max_bytes)
        except OSError as exc:
            raise UserError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > max_bytes:  # it grew while being read
        raise UserError(f"{path}: over the limit of {max_bytes} bytes for a {what}")
    return data


def _read_up_to(f: IO[bytes], size: int, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``f``, whose size was ``size``.

    ``read(n)`` allocates ``n`` bytes at once, so the file's own size is read first and any growth
    (a file being written, or a /proc file that says 0) in bounded chunks after it.
    """
    chunks = [f.read(size + 1)]
    total = len(chunks[0])
    while total > size and total <= max_bytes:
        chunk = f.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and mappings nest in ``value`` (0 for a scalar), counted up to ``limit + 1``.

    Iterative, so that it never recurses itself.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(value: Any, where: str, limit: int = MAX_DEPTH) -> Any:
    """``value``, or a one-line error if it nests deeper than ``limit``."""
    if nesting_depth(value, limit) > limit:
        raise UserError(f"{where}: nested deeper than {limit} levels")
    return value


def parse_json(text: str | bytes, where: str, limit: int = MAX_DEPTH) -> Any:
    """A JSON value, nesting at most ``limit`` deep; one-line errors for anything else."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise UserError(f"{where}: not UTF-8 text") from None
    except RecursionError:
        raise UserError(f"{where}: nested deeper than {limit} levels") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise UserError(f"{where}: invalid JSON: a number too long to read") from None
    return check_depth(value, where, limit)


def parse_yaml(text: str, where: str, limit: int = MAX_DEPTH) -> Any:
    """A YAML document (safe types only), nesting at most ``limit`` deep; one-line errors for anything else."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # a reader's error spans lines
        raise UserError(f"{where}: invalid YAML{at}: {problem}") from None
    except RecursionError:
        raise UserError(f"{where}: nested deeper than {limit} levels") from None
    except (ValueError, LookupError, AttributeError, TypeError):
        # PyYAML's own constructors fail so on values their explicit tag does not fit
        # (`!!int abc`, `!!timestamp 2020-13-45`, `!!bool maybe`), and on integers too long to convert.
        raise UserError(
            f"{where}: invalid YAML: a value that its type cannot hold (a bad !!tag or a huge number)"
        ) from None
    return check_depth(value, where, limit)


def read_yaml(path: Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """The YAML document in ``path``; a one-line ``UserError`` for every way it can be unreadable."""
    return parse_yaml(read_text(path, what, max_bytes), str(path))


def read_lines(path: Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> list[str]:
    """The lines of a UTF-8 text file; a one-line ``UserError`` if it cannot be read."""
    return read_text(path, what, max_bytes).splitlines()


def read_text(path: Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A UTF-8 text file; a one-line ``UserError`` for every way it can be unreadable."""
    data = read_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def read_jsonl(path: Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> Iterator[tuple[str, Any]]:
    """(where, value) for each non-blank line of a JSON Lines file; one-line errors name the line."""
    for n, line in enumerate(read_lines(path, what, max_bytes), 1):
        if not line.strip():
            continue
        where = f"{path}: line {n}"
        yield where, parse_json(line, where)


def first_error(exc: ValidationError) -> tuple[str, str]:
    """Where the first validation error is (dotted path, may be empty) and what it says."""
    err = exc.errors()[0]
    # keys come from the input: one with a newline or other control character is shown quoted, on one line
    where = ".".join(str(part) if str(part).isprintable() else repr(part) for part in err["loc"])
    return where, " ".join(str(err["msg"]).removeprefix("Value error, ").split())


def csv_from_zip(path: Path, data: bytes, max_bytes: int) -> bytes:
    """The one CSV of a zip (as benchmark leaderboards take answers); one-line errors for anything else in it."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UserError(f"{path}: not a zip file") from None
    with z:
        members = [m for m in z.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        csvs = [m for m in members if m.filename.lower().endswith(".csv")]
        if len(members) != 1 or len(csvs) != 1:
            names = ", ".join(m.filename for m in members[:4]) or "nothing"
            raise UserError(f"{path}: the zip must hold a single CSV file (it holds {names})")
        if csvs[0].file_size > max_bytes:
            raise UserError(f"{path}: {csvs[0].filename} is {csvs[0].file_size} bytes, too large for answers")
        try:
            with z.open(csvs[0]) as f:
                out = f.read(max_bytes + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise UserError(f"{path}: damaged zip: {exc}") from None
        if len(out) > max_bytes:
            raise UserError(f"{path}: {csvs[0].filename} is too large for answers")
        return out


# Bounds of the numbers a user sets (documented in the README): finite, and within what a machine can mean.
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # one check may run a week at most (s2n-bignum-bench's longest is hours)
MAX_MEMORY_MB = 1 << 20  # one terabyte
TimeoutSeconds = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)]
MemoryMB = Annotated[int, Field(ge=256, le=MAX_MEMORY_MB)]


def finite_seconds(text: str) -> float:
    """An argparse type: seconds, finite, above zero and at most ``MAX_TIMEOUT_S``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be above 0 and at most {MAX_TIMEOUT_S:.0f}")
    return value
