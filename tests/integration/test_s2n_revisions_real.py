"""The named revisions of s2n-bignum-bench on real clones: each gives the published problem set, exactly.

On clones of s2n-bignum and s2n-bignum-bench with their history: those PROVEBENCH_S2N_BIGNUM_SRC and
PROVEBENCH_S2N_BENCH_SRC name, else clones of the git bundles kept beside the project
(``../shared/datasets/upstream``, on these machines and in CI; never committed). An import takes
about 1.5 minutes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from provebench.suites.load import load_suite
from provebench.suites.s2n_revisions import REVISIONS, TIMEOUT_MAP, import_revision
from tests.s2n_sources import s2n_bench_checkout, s2n_bignum_checkout


def _has(clone: Path, commit: str) -> bool:
    found = subprocess.run(["git", "-C", str(clone), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    return found.returncode == 0


@pytest.fixture(scope="module")
def clones(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return s2n_bignum_checkout(tmp_path_factory), s2n_bench_checkout(tmp_path_factory)


pytestmark = [pytest.mark.slow, pytest.mark.s2n, pytest.mark.timeout(3600)]  # loads s2n-bignum proofs


@pytest.mark.parametrize("name", list(REVISIONS))
def test_a_revision_gives_the_published_set(name: str, tmp_path: Path, clones: tuple[Path, Path]) -> None:
    rev = REVISIONS[name]
    s2n, bench = clones
    assert _has(s2n, rev.s2n_commit), f"the s2n-bignum clone {s2n} has no {rev.s2n_commit[:12]}"
    assert _has(bench, rev.bench_commit), f"the s2n-bignum-bench clone {bench} has no {rev.bench_commit[:12]}"
    _, found = import_revision(name, tmp_path / "suite", s2n, bench, None)
    assert found.report.by_category == rev.counts and found.report.problems == rev.total
    suite = load_suite(tmp_path / "suite")
    map_text = subprocess.run(
        ["git", "-C", str(bench), "show", f"{rev.bench_commit}:{TIMEOUT_MAP}"], capture_output=True, check=True
    ).stdout
    listed = {e["problem_id"] for e in json.loads(map_text)}
    assert {p.id for p in suite.problems} == listed  # the very ids the benchmark lists, not only their number
    prompt = subprocess.run(
        ["git", "-C", str(bench), "show", f"{rev.bench_commit}:prompt-basic.txt"], capture_output=True, check=True
    ).stdout
    assert (tmp_path / "suite" / "prompts" / "prompt-basic.txt").read_bytes() == prompt  # the revision's, as it is
