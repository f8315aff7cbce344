"""The named revisions of s2n-bignum-bench on real clones: each gives the published problem set, exactly.

Runs where PROVEBENCH_S2N_BIGNUM_SRC names a clone of s2n-bignum with its history and
PROVEBENCH_S2N_BENCH_SRC a clone of s2n-bignum-bench with its history (both can be brought
here with the search tool's fetch; neither is ever committed). An import takes about 1.5 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from provebench.suites.load import load_suite
from provebench.suites.s2n_revisions import REVISIONS, TIMEOUT_MAP, import_revision

S2N = os.environ.get("PROVEBENCH_S2N_BIGNUM_SRC")
BENCH = os.environ.get("PROVEBENCH_S2N_BENCH_SRC")


def _has(clone: str | None, commit: str) -> bool:
    if not clone:
        return False
    return (
        subprocess.run(["git", "-C", clone, "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True).returncode
        == 0
    )


pytestmark = [pytest.mark.slow, pytest.mark.s2n, pytest.mark.timeout(3600)]  # loads s2n-bignum proofs


@pytest.mark.parametrize("name", list(REVISIONS))
def test_a_revision_gives_the_published_set(name: str, tmp_path: Path) -> None:
    rev = REVISIONS[name]
    if not _has(S2N, rev.s2n_commit):
        pytest.skip(f"PROVEBENCH_S2N_BIGNUM_SRC does not name an s2n-bignum clone with {rev.s2n_commit[:12]}")
    if not _has(BENCH, rev.bench_commit):
        pytest.skip(f"PROVEBENCH_S2N_BENCH_SRC does not name an s2n-bignum-bench clone with {rev.bench_commit[:12]}")
    _, found = import_revision(name, tmp_path / "suite", Path(str(S2N)), Path(str(BENCH)), None)
    assert found.report.by_category == rev.counts and found.report.problems == rev.total
    suite = load_suite(tmp_path / "suite")
    map_text = subprocess.run(
        ["git", "-C", str(BENCH), "show", f"{rev.bench_commit}:{TIMEOUT_MAP}"], capture_output=True, check=True
    ).stdout
    listed = {e["problem_id"] for e in json.loads(map_text)}
    assert {p.id for p in suite.problems} == listed  # the very ids the benchmark lists, not only their number
