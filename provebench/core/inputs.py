"""Reading user-supplied files and reporting validation errors, always as one line."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from provebench.core.bounded import (
    MAX_CHECKERS,
    MAX_COUNT,
    MAX_INPUT_BYTES,
    MAX_MEMORY_MB,
    MAX_TIMEOUT_S,
    finite_seconds,
    read_bytes,
)
from provebench.core.errors import UserError

# read_bytes, finite_seconds and the bounds live in provebench.core.bounded (standard library only, for the
# command-line grammar and check --server's quick path); they are part of this module's interface too.
__all__ = [
    "MAX_CHECKERS",
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_INPUT_BYTES",
    "MAX_MEMORY_MB",
    "MAX_TIMEOUT_S",
    "MemoryMB",
    "TimeoutSeconds",
    "check_depth",
    "csv_from_zip",
    "finite_seconds",
    "first_error",
    "nesting_depth",
    "parse_csv",
    "parse_json",
    "parse_yaml",
    "read_bytes",
    "read_jsonl",
    "read_lines",
    "read_text",
    "read_yaml",
]

# JSON and YAML nest no deeper than this anywhere outside input arrives (files, bundles, requests):
# provebench's own formats nest a few levels; deeper input is refused before code that recurses sees it.
MAX_DEPTH = 64


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
        # Bytes are UTF-8 (RFC 8259); json.loads would also guess UTF-16 and UTF-32 from them.
        value = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start})") from None
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
        # A reader's error (a control character, bad UTF-8) has no "problem" and says where on a second line.
        said = (str(getattr(exc, "problem", None) or exc).splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{where}: invalid YAML{at}: {said}") from None
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


# What csv's strict mode reports, said so that a user can find and fix it.
_CSV_PROBLEMS = {
    "unexpected end of data": "a quoted field opened in the record starting here is never closed",
    "',' expected after '\"'": "text after the closing quote of a field (a quote inside quotes is written twice)",
}


def parse_csv(text: str, where: str) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each non-empty record of CSV text, parsed strictly; one-line errors name the line.

    Not strict, Python's csv takes a quote left open as a field that runs on to the next quote or the
    end of the file, silently swallowing the records in between; strict, that is an error. Quoted
    fields may span lines and hold doubled quotes; a quote inside an unquoted field is text.
    """
    csv.field_size_limit(MAX_INPUT_BYTES)  # one answer may be long; the text itself is bounded already
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1  # a record starts on the line after the last one read
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UserError(f"{where}: line {start}: {_CSV_PROBLEMS.get(str(exc), f'bad CSV: {exc}')}") from None
        if fields:
            yield start, fields


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


# The numbers a user sets, as pydantic fields: finite, and within the bounds above.
TimeoutSeconds = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)]
MemoryMB = Annotated[int, Field(ge=256, le=MAX_MEMORY_MB)]
