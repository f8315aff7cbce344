"""Reading proof text, on the standard library only (``check --server`` reads proofs before anything heavy loads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provebench.errors import UserError

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
    """The proof text from a file or ``-`` (stdin); one-line errors for bad input."""
    name = "standard input" if source == "-" else source
    try:
        data = stdin() if source == "-" else Path(source).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UserError(f"{name}: {len(data)} bytes is over the proof size limit of {max_bytes} bytes")
    return decode_text(data, name, "proof text")
