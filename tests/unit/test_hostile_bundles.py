"""Tar header bombs in submission bundles (defect 8 of issue 30), and bundles that are not regular files.

Before: a 307 KB bundle with a 300 MB PAX header used about 1 GB of memory and went on to
re-verification; a 100 KB bundle with a 100 MB GNU long name printed a 100 MB error line. Now the
headers are scanned, bounded, before tarfile reads anything (``provebench.boards.tarscan``).
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench.boards.bundle import MANIFEST_MEMBER, read_bundle
from provebench.boards.tarscan import TarBounds, scan_headers
from provebench.core.errors import UserError
from tests.cli_support import refused_in_one_line

BIG = 300_000_000  # as in the issue: a 300 MB extended header
LONG = 100_000_000  # a 100 MB GNU long name


def _header(name: str, type_: bytes, size: int, fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = type_, size
    return info.tobuf(fmt)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


def _repeated(byte: bytes, size: int) -> Iterator[bytes]:
    chunk = byte * (1 << 20)
    for start in range(0, size, len(chunk)):
        yield chunk[: size - start]


def _gz(out: Path, parts: Iterator[bytes]) -> Path:
    with gzip.open(out, "wb", compresslevel=1) as gz:
        for part in parts:
            gz.write(part)
    return out


def _bomb(kind: bytes, size: int) -> Iterator[bytes]:
    """An extended header of ``size`` bytes (a valid PAX comment, or a GNU long name), then a small member."""
    yield _header("././@LongLink" if kind == tarfile.GNUTYPE_LONGNAME else "pax", kind, size)
    if kind == tarfile.XHDTYPE:
        head = f"{size} comment=".encode()
        yield head
        yield from _repeated(b"x", size - len(head) - 1)
        yield b"\n"
    else:
        yield from _repeated(b"a", size - 1)
        yield b"\0"
    yield _padding(size)
    yield _header(MANIFEST_MEMBER, tarfile.REGTYPE, 2) + b"{}" + _padding(2)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


def test_a_300_mb_pax_header_is_refused_before_it_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _gz(tmp_path / "pax-bomb.tar.gz", _bomb(tarfile.XHDTYPE, BIG))
    assert bundle.stat().st_size < 2_000_000  # it is small on disk: the 300 MB come from decompression
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=rf"a PAX header of {BIG} bytes, over the limit of 65536"):
            read_bundle(bundle)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak  # megabytes, not the gigabyte it took
    board = tmp_path / "board"
    refused_in_one_line(capsys, ["leaderboard", "add", str(bundle), "--board", str(board)], "a PAX header of")
    assert not board.exists()


def test_a_100_mb_gnu_long_name_is_refused_in_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _gz(tmp_path / "long-name.tar.gz", _bomb(tarfile.GNUTYPE_LONGNAME, LONG))
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=rf"a GNU long-name header of {LONG} bytes, over the limit of 65536"):
            read_bundle(bundle)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak
    line = refused_in_one_line(
        capsys, ["leaderboard", "add", str(bundle), "--board", str(tmp_path / "b")], "GNU long-name"
    )
    assert "aaaa" not in line


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_a_long_name_within_the_bounds_is_cut_in_the_error_line(tmp_path: Path, fmt: int) -> None:
    out = tmp_path / "named.tar.gz"
    with tarfile.open(out, "w:gz", format=fmt) as tar:
        info = tarfile.TarInfo("n" * 20_000)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(UserError, match=r"unexpected member 'n{100}'\.\.\. \(20000 characters\)") as exc:
        read_bundle(out)
    assert len(str(exc.value)) < 400


def test_pax_sizes_and_sparse_members_are_refused(tmp_path: Path) -> None:
    """A PAX size would move the next header away from where the scan looked: refused, not followed."""
    out = tmp_path / "pax-size.tar.gz"
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST_MEMBER)
        info.size, info.pax_headers = 2, {"size": "2"}
        tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(UserError, match="a PAX header that sets a size or a sparse map"):
        read_bundle(out)
    sparse = _gz(
        tmp_path / "sparse.tar.gz", iter([_header(MANIFEST_MEMBER, tarfile.GNUTYPE_SPARSE, 0, tarfile.GNU_FORMAT)])
    )
    with pytest.raises(UserError, match="a sparse member"):
        read_bundle(sparse)


def test_the_scan_bounds_entries_and_data_and_names_damage() -> None:
    def tar(*members: tuple[str, int]) -> io.BytesIO:
        raw = b"".join(_header(n, tarfile.REGTYPE, s) + b"\0" * (s + -s % 512) for n, s in members)
        return io.BytesIO(raw + b"\0" * 1024)

    bounds = TarBounds(data_bytes=1000, entries=3)
    scan_headers(tar(("a", 10), ("b", 990)), "t", bounds)
    with pytest.raises(UserError, match="t: more than 3 entries in the archive"):
        scan_headers(tar(("a", 1), ("b", 1), ("c", 1), ("d", 1)), "t", bounds)
    with pytest.raises(UserError, match="t: over 1000 bytes of member data"):
        scan_headers(tar(("a", 10), ("b", 991)), "t", bounds)
    damaged = bytearray(tar(("a", 10), ("b", 10)).getvalue())
    damaged[1024] ^= 0xFF  # the second header's name: its checksum no longer matches
    with pytest.raises(UserError, match="t: damaged archive at byte 1024: bad checksum"):
        scan_headers(io.BytesIO(bytes(damaged)), "t", bounds)
    with pytest.raises(UserError, match="t: not a tar archive: "):
        scan_headers(io.BytesIO(b"x" * 512), "t", bounds)


# ---------------------------------------------------------------- defect 10: a bundle is a regular file, bounded


def test_a_bundle_that_is_a_device_or_a_fifo_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):  # /dev/zero was read until memory ran out; a FIFO waited forever
        with pytest.raises(UserError, match="not a regular file"):
            read_bundle(Path(path))
        refused_in_one_line(capsys, ["leaderboard", "add", path, "--board", str(tmp_path / "b")], "not a regular file")
