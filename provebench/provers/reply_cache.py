"""The reply cache: each prover reply kept under the request that produced it, so that none is paid for twice.

A key is the sha256 of the canonical JSON (sorted keys, no spaces, no NaN) of the request a prover
sends, as it describes it (the model as the endpoint names it, the messages or prompt, every sampling
parameter), and of the sample index: a setting that changes the request changes the key, and one that
does not (a timeout, a retry budget, a price) does not.

Storage: one file per key, ``<folder>/<key[:2]>/<key>.json``, written whole to a temporary file beside
it and renamed over it (``os.replace``). Chosen over SQLite with WAL because it needs no lock and no
shared file: two runs writing the same key each write their own temporary file and the last rename
wins, both whole; a reader sees the old file or the new one, never a mix; a writer killed mid-write
leaves only its temporary file (``.<key>.*.tmp``), which is never read as an entry; it works on any
filesystem with an atomic rename (WAL needs shared memory, so not on NFS); and one bad file costs one
miss, not the cache. Entries are not fsynced: a power cut may leave a renamed file whose data never
reached the disk, and its content hash then fails on reading, which is a miss.

Entries are input like any other: read bounded, only regular files under the folder (no symlink is
followed inside it), parsed as plain JSON with bounded nesting, and taken only if the request they
hold hashes to the key asked for and the reply to the hash they hold. Anything else is a miss.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.errors import UserError
from provebench.core.inputs import parse_json

FORMAT = "provebench-reply-cache/1"
MAX_ENTRY_BYTES = 64 << 20  # a reply of 64k tokens with its reasoning is a few MB: far more is not a reply
_HEX = frozenset("0123456789abcdef")
_log = logging.getLogger("provebench")


def canonical_json(value: Any) -> str:
    """``value`` as one canonical JSON text; ValueError for what JSON cannot hold (NaN, a set, an object)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(request: Mapping[str, Any], sample: int) -> str:
    """The key of ``sample``'s reply to ``request``: sha256 of the canonical JSON of both, and the format."""
    return _sha256(canonical_json({"format": FORMAT, "request": request, "sample": sample}))


class Entry(BaseModel):
    """One cache file: the request and sample it answers, the reply, and the reply's hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    key: str
    sample: int = Field(ge=0)
    request: dict[str, Any]
    reply: dict[str, Any]
    reply_sha256: str


class ReplyCache:
    """The replies under one folder (created when the first is stored)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, request: Mapping[str, Any], sample: int) -> dict[str, Any] | None:
        """The reply stored for ``request`` and ``sample``, or None: none stored, or a bad one (said in a line)."""
        key = cache_key(request, sample)
        try:
            return self._entry(key).reply
        except FileNotFoundError:
            return None
        except (OSError, _Refused) as exc:
            _log.warning("reply cache: entry %s ignored (%s): asked again", self._path(key), _why(exc))
            return None

    def _entry(self, key: str) -> Entry:
        """The entry of ``key``, checked against its key and its hash; ``_Refused`` saying why not."""
        try:
            entry = Entry.model_validate(parse_json(self._read(key), "entry"))
        except (UserError, ValidationError):
            raise _Refused("not an entry: torn, or not written by provebench") from None
        if entry.format != FORMAT or entry.key != key:
            raise _Refused("an entry of another key or format")
        try:
            whole = (
                cache_key(entry.request, entry.sample) == key
                and _sha256(canonical_json(entry.reply)) == entry.reply_sha256
            )
        except ValueError:
            whole = False  # a NaN or an infinity where canonical JSON has none
        if not whole:
            raise _Refused("its content does not match its hash")
        return entry

    def put(self, request: Mapping[str, Any], sample: int, reply: Mapping[str, Any]) -> None:
        """Store ``reply`` whole or not at all; a cache that cannot be written is said in a line; the run goes on."""
        key = cache_key(request, sample)
        text = canonical_json(
            {
                "format": FORMAT,
                "key": key,
                "sample": sample,
                "request": request,
                "reply": reply,
                "reply_sha256": _sha256(canonical_json(reply)),
            }
        )
        try:
            (self.folder / key[:2]).mkdir(parents=True, exist_ok=True)
            folder = _open_folder(self.folder / key[:2])
        except (OSError, _Refused) as exc:
            _log.warning("reply cache %s: cannot store a reply: %s", self.folder, _why(exc))
            return
        tmp = f".{key}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
            os.replace(tmp, f"{key}.json", src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException as exc:
            try:
                os.unlink(tmp, dir_fd=folder)
            except OSError:
                pass  # not made, or renamed already
            if not isinstance(exc, OSError):
                raise
            _log.warning("reply cache %s: cannot store a reply: %s", self.folder, _why(exc))
        finally:
            os.close(folder)

    def _read(self, key: str) -> bytes:
        """The entry file's bytes: a regular file in a real folder under the cache's, bounded; no symlink followed."""
        if len(key) != 64 or not set(key) <= _HEX:  # keys are ours; a name from elsewhere never becomes a path
            raise _Refused("not a key")
        folder = _open_folder(self.folder / key[:2])
        try:
            fd = os.open(f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the entry is a symlink
                raise _Refused("a symlink") from None
            raise
        finally:
            os.close(folder)
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Refused("not a regular file")
            if info.st_size > MAX_ENTRY_BYTES:
                raise _Refused(f"over {MAX_ENTRY_BYTES} bytes")
            # What the file holds, not the limit, is allocated; a file that grows meanwhile is read on to the limit.
            chunks = [f.read(info.st_size + 1)]
            size = len(chunks[0])
            while info.st_size < size <= MAX_ENTRY_BYTES and chunks[-1]:
                chunks.append(f.read(min(1 << 20, MAX_ENTRY_BYTES + 1 - size)))
                size += len(chunks[-1])
            data = b"".join(chunks)
        if len(data) > MAX_ENTRY_BYTES:
            raise _Refused(f"over {MAX_ENTRY_BYTES} bytes")
        return data


class _Refused(Exception):
    """An entry file that is not read: what it is instead of a regular file of a bounded size."""


def _open_folder(path: Path) -> int:
    """A descriptor of the fan-out folder ``path``, which must be a folder itself, not a symlink to one."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):  # a file, or a symlink, where the folder goes
            raise _Refused(f"{path.name} is not a folder of the cache") from None
        raise


def _why(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
