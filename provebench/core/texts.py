"""Reading proof text, on the standard library only (``check --server`` reads proofs before anything heavy loads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provebench.core.bounded import read_bytes
from provebench.core.errors import UserError

__all__ = ["decode_text", "read_proof"]


def decode_text(data: bytes, name: str, what: str) -> str:
    """UTF-8 text, or a one-line error for binary data or bad encoding."""
    if b"\0" in data:
        raise UserError(f"{name}: binary data, not {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def read_proof(source: str, max_bytes: int, stdin: Callable[[], bytes]) -> str:
    """The proof text from a file or ``-`` (``stdin``, which should read at most ``max_bytes + 1``); one-line errors."""
    if source != "-":  # a regular file, read no further than the limit (not /dev/zero, not a FIFO)
        return decode_text(read_bytes(Path(source), "proof file", max_bytes), source, "proof text")
    name = "standard input"
    try:
        data = stdin()
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UserError(f"{name}: over the proof size limit of {max_bytes} bytes")
    return decode_text(data, name, "proof text")
