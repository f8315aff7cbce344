"""Writing files: whole or not at all, and never over what a command read or a run holds.

Every file provebench writes (journals aside, which append) goes through ``write_atomic``: the data
goes to a temporary file beside the target, is flushed to disk, and is renamed over the target, so a
crash leaves the old file or the new one, never half of either. ``guard_output`` refuses, in one
line, an output path that would replace one of the command's inputs or a run's own files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from provebench.core.errors import UserError

# The files that make a run directory (run.py names them; kept here so that no writer needs the run module).
RUN_FILES = frozenset({"config.yaml", "manifest.json", "attempts.jsonl", "summary.json", ".lock"})


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # a directory that cannot be opened cannot be synced either; the rename has happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, rename); one-line errors."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"{path}: cannot write: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def is_run_file(path: Path) -> bool:
    """Whether ``path`` is one of a run directory's own files (its folder holds a run's config)."""
    resolved = path.resolve()
    return resolved.name in RUN_FILES and (resolved.parent / "config.yaml").is_file()


def guard_output(out: Path, inputs: Iterable[Path] = (), what: str = "output") -> Path:
    """``out``, unless writing it would replace an input of the command or a run's own file."""
    if out.is_dir():
        raise UserError(f"{out}: is a directory; name a file for the {what}")
    if is_run_file(out):
        raise UserError(f"{out}: is a run's own file; write the {what} somewhere else")
    for given in inputs:
        if _same_file(out, given) or out.resolve() == given.resolve():
            raise UserError(f"{out}: is an input of this command; write the {what} somewhere else")
    return out
