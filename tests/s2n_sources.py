"""s2n-bignum's sources for the tests: the checkout PROVEBENCH_S2N_BIGNUM_SRC names, or a clone of the git
bundle kept beside the project (``../shared/datasets/upstream``, on these machines and in CI)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.components import missing_component

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "upstream"
BUNDLE = UPSTREAM / "s2n-bignum.bundle"
BENCH_BUNDLE = UPSTREAM / "s2n-bignum-bench.bundle"


def s2n_bignum_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout of s2n-bignum (its default branch when cloned from the bundle)."""
    named = os.environ.get("PROVEBENCH_S2N_BIGNUM_SRC")
    if named and Path(named, "arm", "proofs", "base.ml").is_file():
        return Path(named)
    if not BUNDLE.is_file():
        missing_component("s2n-bignum sources", f"set PROVEBENCH_S2N_BIGNUM_SRC or keep the bundle at {BUNDLE}")
    clone = tmp_path_factory.mktemp("s2n") / "s2n-bignum"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(clone)], check=True, timeout=600)
    return clone


def s2n_bench_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of s2n-bignum-bench with its history: PROVEBENCH_S2N_BENCH_SRC, or the bundle beside the project."""
    named = os.environ.get("PROVEBENCH_S2N_BENCH_SRC")
    if named and Path(named, ".git").exists():
        return Path(named)
    if not BENCH_BUNDLE.is_file():
        missing_component(
            "s2n-bignum-bench sources", f"set PROVEBENCH_S2N_BENCH_SRC or keep the bundle at {BENCH_BUNDLE}"
        )
    clone = tmp_path_factory.mktemp("s2n-bench") / "s2n-bignum-bench"
    subprocess.run(["git", "clone", "-q", str(BENCH_BUNDLE), str(clone)], check=True, timeout=600)
    return clone
