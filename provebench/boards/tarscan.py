"""A first pass over a tar archive's headers, before ``tarfile`` reads it: every header and size bounded.

``tarfile`` reads the data of a PAX extended header or of a GNU long name whole into memory, whatever
size the header claims (a 307 KB bundle with a 300 MB PAX header cost about 1 GB), and a long name then
travels into error messages. This pass parses each 512-byte header with ``tarfile``'s own parser, keeps
no member data (it skips it on the stream), and refuses an archive whose extended headers, entries or
data exceed the bounds, so that nothing big is read into memory and no huge name is shown.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass

from provebench.core.errors import UserError

__all__ = ["TarBounds", "scan_headers"]

# Headers whose data tarfile reads whole and applies to the entry after them.
_PAX = {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE}
_LONG_NAMES = {tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK}


@dataclass(frozen=True)
class TarBounds:
    """The most an archive may hold, checked before tarfile reads it."""

    data_bytes: int  # all member data together
    header_bytes: int = 64 << 10  # the data of one PAX header or GNU long name
    entries: int = 16  # headers of every kind, extended ones included


def _kind(type_: bytes) -> str:
    return "PAX" if type_ in _PAX else "GNU long-name"


def scan_headers(stream: io.BufferedIOBase, where: str, bounds: TarBounds) -> None:
    """Walk the headers of the uncompressed tar ``stream``; a one-line ``UserError`` for the first excess.

    Reads at most ``bounds.header_bytes`` into memory at a time. Member data is skipped with a
    relative seek (a gzip stream decompresses it in small pieces and drops it).
    """
    entries = data = 0
    offset = 0
    while True:
        block = stream.read(tarfile.BLOCKSIZE)
        if not block.strip(b"\0"):
            return  # the end of the data, or the archive's block of zeros (tarfile says what is missing, if anything)
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            what = "not a tar archive" if offset == 0 else f"damaged archive at byte {offset}"
            raise UserError(f"{where}: {what}: {exc}") from None
        entries += 1
        if entries > bounds.entries:
            raise UserError(f"{where}: more than {bounds.entries} entries in the archive")
        if info.size < 0:
            raise UserError(f"{where}: damaged archive at byte {offset}: a negative size")
        skip = 0
        if info.type in _PAX or info.type in _LONG_NAMES:
            if info.size > bounds.header_bytes:  # the size only: the data may be a 100 MB name
                limit = bounds.header_bytes
                raise UserError(f"{where}: a {_kind(info.type)} header of {info.size} bytes, over the limit of {limit}")
            payload = stream.read(info.size)
            # Records are "<length> <key>=<value>\n". A size or a sparse map would make tarfile find the next
            # header where this pass did not look; provebench never writes them, so refuse rather than follow.
            if info.type in _PAX and (b" size=" in payload or b" GNU.sparse." in payload):
                raise UserError(f"{where}: a PAX header that sets a size or a sparse map (a bundle has none)")
            skip = -info.size % tarfile.BLOCKSIZE
        elif info.type == tarfile.GNUTYPE_SPARSE:  # its map of extension blocks is unbounded
            raise UserError(f"{where}: a sparse member (a bundle has none)")
        elif info.isreg() or info.type not in tarfile.SUPPORTED_TYPES:  # where tarfile reads data, as it does
            data += info.size
            if data > bounds.data_bytes:
                raise UserError(f"{where}: over {bounds.data_bytes} bytes of member data")
            skip = info.size + -info.size % tarfile.BLOCKSIZE
        stream.seek(skip, io.SEEK_CUR)
        offset = stream.tell()
