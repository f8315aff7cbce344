"""Outside sources (checker images, benchmark revisions): fetched as URL@COMMIT into a temporary clone, or
checked out from a local clone with history without changing it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provebench.containers.sources import checkout_at, fetched_source, file_at
from provebench.core.errors import UserError


def _repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "upstream"
    repo.mkdir()

    def git(*args: str) -> str:
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}
        env |= {"GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
        return subprocess.run(
            ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
        ).stdout

    git("init", "-q")
    (repo / "x.ml").write_text("first\n")
    git("add", "x.ml")
    git("commit", "-qm", "one")
    first = git("rev-parse", "HEAD").strip()
    (repo / "x.ml").write_text("second\n")
    git("commit", "-qam", "two")
    return repo, first, git("rev-parse", "HEAD").strip()


def test_a_source_is_fetched_at_the_commit_asked_for(tmp_path: Path) -> None:
    repo, first, second = _repo(tmp_path)
    lines: list[str] = []
    with fetched_source("s2n-bignum", f"{repo}@{first[:10]}", lines.append) as tree:
        assert tree.revision == first and (tree.path / "x.ml").read_text() == "first\n"
        kept = tree.path
    assert not kept.exists()  # the clone lives only as long as the build
    with fetched_source("s2n-bignum", f"file://{repo}@{second}", lines.append) as tree:
        assert tree.revision == second
    assert lines and "fetching s2n-bignum" in lines[0]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("https://example.org/s2n-bignum", "wants URL@COMMIT"),
        ("https://example.org/s2n-bignum@main", "wants URL@COMMIT"),
        ("@abcdef0", "wants URL@COMMIT"),
    ],
)
def test_a_bad_reference_is_one_line(ref: str, message: str) -> None:
    with pytest.raises(UserError, match=message), fetched_source("s2n-bignum", ref, lambda _l: None):
        pass


def test_an_unreachable_source_or_commit_is_one_line(tmp_path: Path) -> None:
    repo, _, _ = _repo(tmp_path)
    with pytest.raises(UserError, match=r"cannot fetch s2n-bignum .* --s2n-bignum-src") as err:
        with fetched_source("s2n-bignum", f"{tmp_path / 'nowhere'}@abcdef0", lambda _l: None):
            pass
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="cannot fetch s2n-bignum abcdef0"):
        with fetched_source("s2n-bignum", f"{repo}@abcdef0", lambda _l: None):
            pass


def test_a_commit_is_checked_out_from_a_local_clone_without_changing_it(tmp_path: Path) -> None:
    repo, first, second = _repo(tmp_path)
    head = (repo / "x.ml").read_text()
    lines: list[str] = []
    with checkout_at("s2n-bignum", first, lines.append, clone=repo) as tree:
        assert tree.revision == first and (tree.path / "x.ml").read_text() == "first\n"
    assert (repo / "x.ml").read_text() == head == "second\n" and "checking out s2n-bignum" in lines[0]
    assert file_at("s2n-bignum", repo, first, "x.ml") == b"first\n"
    with pytest.raises(UserError, match=r"has no commit abcdef012345 of s2n-bignum; fetch it: git -C .* fetch https"):
        with checkout_at("s2n-bignum", "abcdef0123456789", lines.append, url="https://x", clone=repo):
            pass
    with pytest.raises(UserError, match="not a git clone"):
        with checkout_at("s2n-bignum", first, lines.append, clone=tmp_path):
            pass
    with pytest.raises(UserError, match="cannot read nope.ml of s2n-bignum"):
        file_at("s2n-bignum", repo, first, "nope.ml")
