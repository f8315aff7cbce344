"""Reading user-supplied files and reporting validation errors, always as one line."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from provebench.errors import UserError


def read_yaml(path: Path, what: str = "file") -> Any:
    """The YAML document in ``path``; a one-line ``UserError`` for every way it can be unreadable."""
    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: invalid YAML{at}: {getattr(exc, 'problem', exc)}") from None


def read_lines(path: Path, what: str = "file") -> list[str]:
    """The lines of a UTF-8 text file; a one-line ``UserError`` if it cannot be read."""
    return read_text(path, what).splitlines()


def read_text(path: Path, what: str = "file") -> str:
    """A UTF-8 text file; a one-line ``UserError`` for every way it can be unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a {what}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None


def read_jsonl(path: Path, what: str = "file") -> Iterator[tuple[str, Any]]:
    """(where, value) for each non-blank line of a JSON Lines file; one-line errors name the line."""
    for n, line in enumerate(read_lines(path, what), 1):
        if not line.strip():
            continue
        where = f"{path}: line {n}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{where}: invalid JSON: {exc.msg}") from None


def first_error(exc: ValidationError) -> tuple[str, str]:
    """Where the first validation error is (dotted path, may be empty) and what it says."""
    err = exc.errors()[0]
    return ".".join(str(part) for part in err["loc"]), str(err["msg"]).removeprefix("Value error, ")


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
