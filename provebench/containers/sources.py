"""Outside source trees (s2n-bignum, s2n-bignum-bench) at a known commit: a checkout given, or a temporary clone.

A temporary clone comes from a URL (where the network reaches it) or, shared, from a
local clone with history, so that the user's clone is only read, never changed.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provebench.core.errors import UserError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SourceTree:
    """An outside source tree an image is built from, at a known revision."""

    name: str
    path: Path
    revision: str

    @classmethod
    def from_checkout(cls, name: str, path: Path) -> SourceTree:
        """A git checkout; its revision is its HEAD commit."""
        if not path.is_dir():
            raise UserError(f"{path}: not a folder")
        done = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True)
        if done.returncode != 0 or not done.stdout.strip():
            raise UserError(f"{path}: not a git checkout, so its {name} revision is unknown")
        return cls(name=name, path=path, revision=done.stdout.strip())


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stderr.strip().splitlines() or ["git failed"])[-1]


@contextmanager
def checkout_at(
    name: str, commit: str, progress: Progress, url: str = "", clone: Path | None = None
) -> Iterator[SourceTree]:
    """A temporary checkout of ``commit``: shared from the local ``clone`` (with history), else cloned from ``url``."""
    if clone is not None:
        if _git("-C", str(clone), "rev-parse", "--git-dir").returncode != 0:
            raise UserError(f"{clone}: not a git clone of {name}")
        if _git("-C", str(clone), "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
            hint = f"; fetch it: git -C {clone} fetch {url}" if url else ""
            raise UserError(f"{clone}: has no commit {commit[:12]} of {name}{hint}")
    with tempfile.TemporaryDirectory(prefix=f"provebench-{name}-") as tmp:
        if clone is not None:
            progress(f"checking out {name} {commit[:12]} from {clone}")
            steps = [["clone", "--quiet", "--shared", "--no-checkout", str(clone), tmp]]
        else:
            progress(f"fetching {name} {commit} from {url}")
            steps = [["clone", "--quiet", "--no-checkout", url, tmp]]
        for step in [*steps, ["-C", tmp, "checkout", "-q", commit]]:
            done = _git(*step)
            if done.returncode != 0:
                where = f"{url} (air-gapped: --{name}-src CHECKOUT)" if clone is None else str(clone)
                raise UserError(f"cannot fetch {name} {commit} from {where}: {_last_line(done)}")
        yield SourceTree.from_checkout(name, Path(tmp))


@contextmanager
def fetched_source(name: str, ref: str, progress: Progress) -> Iterator[SourceTree]:
    """A clone of ``URL@COMMIT`` in a temporary folder, for as long as the build needs it."""
    url, sep, commit = ref.rpartition("@")
    if not sep or not url or not re.fullmatch(r"[0-9a-fA-F]{7,40}", commit):
        raise UserError(f"--{name} wants URL@COMMIT (a commit hash), got {ref!r}")
    with checkout_at(name, commit, progress, url=url) as tree:
        yield tree


def file_at(name: str, clone: Path, commit: str, path: str) -> bytes:
    """The bytes of ``path`` at ``commit`` in a local clone with history."""
    done = subprocess.run(["git", "-C", str(clone), "show", f"{commit}:{path}"], capture_output=True)
    if done.returncode != 0:
        why = (done.stderr.decode(errors="replace").strip().splitlines() or ["git failed"])[-1]
        raise UserError(f"{clone}: cannot read {path} of {name} at {commit[:12]}: {why}")
    return done.stdout


def files_at(name: str, clone: Path, commit: str, paths: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of those of ``paths`` that exist at ``commit`` in a local clone with history (others left out)."""
    listed = ["git", "-C", str(clone), "ls-tree", "--name-only", commit, "--", *paths]
    done = subprocess.run(listed, capture_output=True)
    if done.returncode != 0:
        why = (done.stderr.decode(errors="replace").strip().splitlines() or ["git failed"])[-1]
        raise UserError(f"{clone}: cannot list the files of {name} at {commit[:12]}: {why}")
    present = set(done.stdout.decode(errors="replace").splitlines())
    return {path: file_at(name, clone, commit, path) for path in paths if path in present}
