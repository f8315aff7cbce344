"""Named revisions of s2n-bignum-bench, on small git histories written here: the pinned commit is checked out
from a clone with history (never changed), the revision's timeout map is read at its benchmark commit and its
hash checked, and the counts must be the published ones or nothing is written. The real revisions, on real
clones of s2n-bignum and s2n-bignum-bench, are in tests/integration/test_s2n_revisions_real.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.settings import CheckerBuild
from provebench.suites import s2n_revisions
from provebench.suites.load import load_suite
from provebench.suites.s2n_revisions import BenchRevision, import_revision
from tests.prompt_suites import PROMPT
from tests.unit.test_s2n_source_import import FILES

IDS = [
    "common.overlap.NONOVERLAPPING_LEMMA",
    "arm.base.WORD_ADD_LEMMA",
    "arm.bignum_bar.DUP",
    "arm.bignum_foo.BIGNUM_FOO_CORRECT",
    "arm.bignum_foo.LEMMA",
    "arm.bignum_foo.RUNTIME",
]
COUNTS = {"program_state": 1, "bit_vector": 1, "generic": 3, "functional_correctness_arm": 1}
LATER_PROMPT = "A later wording.\n{query.txt}\n"


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(repo.parent)}
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def clones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, BenchRevision]:
    """An s2n-bignum clone whose revision commit is not its HEAD, and a benchmark clone with the map."""
    s2n, bench = tmp_path / "s2n-bignum", tmp_path / "bench"
    for repo in (s2n, bench):
        repo.mkdir()
        _git(repo, "init", "-q")
    pinned = _commit(s2n, FILES, "the revision's commit")
    _commit(s2n, {"arm/proofs/bignum_new.ml": "let NEW = prove(`T`, REWRITE_TAC[]);;\n", "arm/x.S": ""}, "later")
    timeout_map = json.dumps([{"problem_id": i, "prove_secs": 1.0, "timeout_sec": 120} for i in IDS])
    map_commit = _commit(bench, {"timeout-map.json": timeout_map, "prompt-basic.txt": PROMPT}, "the map")
    _commit(bench, {"timeout-map.json": "[]", "prompt-basic.txt": LATER_PROMPT}, "a later map and prompt")
    rev = BenchRevision(
        name="test-rev",
        s2n_commit=pinned,
        bench_commit=map_commit,
        timeout_map_sha256=hashlib.sha256(timeout_map.encode()).hexdigest(),
        counts=COUNTS,
        comparable="this test's published results",
    )
    monkeypatch.setitem(s2n_revisions.REVISIONS, rev.name, rev)
    return s2n, bench, rev


def test_a_revision_imports_its_commit_with_its_map(clones: tuple[Path, Path, BenchRevision], tmp_path: Path) -> None:
    s2n, bench, rev = clones
    head = _git(s2n, "rev-parse", "HEAD")
    _, found = import_revision(rev.name, tmp_path / "suite", s2n, bench, None)
    suite = load_suite(tmp_path / "suite")
    assert sorted(p.id for p in suite.problems) == sorted(IDS) and found.report.by_category == COUNTS
    assert all(p.timeout_s == 120 * 4 for p in suite.problems)  # every timeout from the revision's map
    assert suite.manifest.metadata["s2n_bignum_commit"] == rev.s2n_commit
    assert suite.manifest.metadata["benchmark_revision"] == "test-rev"
    assert _git(s2n, "rev-parse", "HEAD") == head and not _git(s2n, "status", "--porcelain")  # the clone is as it was


def test_other_counts_write_nothing_and_say_which(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s2n, bench, rev = clones
    wrong = BenchRevision(**{**rev.__dict__, "counts": {**COUNTS, "generic": 4}})
    monkeypatch.setitem(s2n_revisions.REVISIONS, rev.name, wrong)
    with pytest.raises(UserError, match=r"gives other counts: generic 3 \(published 4\)$"):
        import_revision(rev.name, tmp_path / "suite", s2n, bench, None)
    assert not (tmp_path / "suite").exists()


def test_the_map_must_be_the_revisions_and_the_commit_must_be_there(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path
) -> None:
    s2n, bench, rev = clones
    other = tmp_path / "other-map.json"
    other.write_text("[]")
    with pytest.raises(UserError, match=r"other-map.json: not the timeout map of revision test-rev"):
        import_revision(rev.name, tmp_path / "a", s2n, None, other)
    with pytest.raises(UserError, match=r"has no commit .* of s2n-bignum; fetch it: git -C .* fetch https://github"):
        import_revision(rev.name, tmp_path / "b", bench, bench, None)  # the benchmark's clone is no s2n-bignum clone
    with pytest.raises(UserError, match="unknown s2n-bignum-bench revision 'nope'; known: paper, leaderboard-2026-04"):
        import_revision("nope", tmp_path / "c", s2n, bench, None)
    assert not any((tmp_path / d).exists() for d in "abc")


def test_cli_revision(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s2n, bench, rev = clones
    argv = ["suites", "import", "s2n-bignum", "--revision", rev.name, "--s2n-bignum-src", str(s2n)]
    assert main([*argv, "--bench-src", str(bench), "--out", str(tmp_path / "suite")]) == 0
    said = capsys.readouterr()
    assert "imported 6 problems" in said.out
    assert "revision test-rev: the published counts; comparable to this test's published results" in said.err
    assert "timeouts: every problem's own from the benchmark's timeout map, times 1" in said.err
    assert load_suite(tmp_path / "suite").manifest.checker is CheckerBuild.NATIVE  # the default
    assert main(["suites", "import", "s2n-bignum", "--from-source", str(s2n), "--bench-src", str(bench)]) == 2
    assert "--s2n-bignum-src and --bench-src go with --revision" in capsys.readouterr().err


def test_the_suite_keeps_the_benchmarks_prompt_file_at_the_revisions_commit(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The prompt of the revision's benchmark commit, not the clone's newest: the wording changed over time."""
    s2n, bench, rev = clones
    argv = ["suites", "import", "s2n-bignum", "--revision", rev.name, "--s2n-bignum-src", str(s2n)]
    assert main([*argv, "--bench-src", str(bench), "--out", str(tmp_path / "suite")]) == 0
    assert (tmp_path / "suite" / "prompts" / "prompt-basic.txt").read_text() == PROMPT
    assert load_suite(tmp_path / "suite").manifest.prompts == ("prompt-basic.txt",)
    assert "prompt files: prompt-basic.txt, the benchmark's own, in " in capsys.readouterr().err


def test_with_only_a_timeout_map_no_benchmark_is_at_hand_and_the_suite_has_no_prompt_file(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path
) -> None:
    s2n, bench, rev = clones
    given = tmp_path / "map.json"
    given.write_bytes(
        subprocess.run(
            ["git", "-C", str(bench), "show", f"{rev.bench_commit}:timeout-map.json"], check=True, capture_output=True
        ).stdout
    )
    _, found = import_revision(rev.name, tmp_path / "suite", s2n, None, given)
    assert found.report.prompts == () and not (tmp_path / "suite" / "prompts").exists()
    _, found = import_revision(rev.name, tmp_path / "both", s2n, bench, given)  # a clone beside the map: taken
    assert found.report.prompts == ("prompt-basic.txt",)
    assert (tmp_path / "both" / "prompts" / "prompt-basic.txt").read_text() == PROMPT


def test_a_benchmark_commit_without_a_prompt_file_gives_a_suite_without_one(
    clones: tuple[Path, Path, BenchRevision], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s2n, bench, rev = clones
    _git(bench, "rm", "-q", "prompt-basic.txt")
    timeout_map = _git(bench, "show", f"{rev.bench_commit}:timeout-map.json")
    commit = _commit(bench, {"timeout-map.json": timeout_map}, "no prompt")
    monkeypatch.setitem(s2n_revisions.REVISIONS, rev.name, BenchRevision(**{**rev.__dict__, "bench_commit": commit}))
    _, found = import_revision(rev.name, tmp_path / "suite", s2n, bench, None)
    assert found.report.prompts == () and load_suite(tmp_path / "suite").manifest.prompts == ()
