"""Named revisions of s2n-bignum-bench: the published problem sets, reproduced from s2n-bignum's history.

Each revision is an s2n-bignum commit and the benchmark's ``timeout-map.json`` at one of its
commits, whose entries are exactly the revision's problem ids (the map also decides which
copy of a goal proved in several files the set keeps, and so its id). An import at the
revision must give the published counts, in total and per category, or nothing is written.

The benchmark pinned its author's fork of s2n-bignum; where that commit is not reachable
(``leaderboard-2026-04``, ``refresh-2026-08``) the upstream commit named here gives the same
problem ids, every one. The benchmark's prompt file at that commit goes into the suite (its text
changed between the paper's commit and the later ones).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provebench.containers.sources import checkout_at, file_at, files_at
from provebench.core.errors import UserError
from provebench.core.inputs import read_bytes
from provebench.suites.folder import read_prompt_bytes
from provebench.suites.s2n_bignum import BENCH_PROMPTS, TIMEOUT_SCALE
from provebench.suites.s2n_source import SourceImport, import_source

S2N_BIGNUM_URL = "https://github.com/awslabs/s2n-bignum"
BENCH_URL = "https://github.com/kings-crown/s2n-bignum-bench"
TIMEOUT_MAP = "timeout-map.json"


@dataclass(frozen=True)
class BenchRevision:
    """One published problem set of s2n-bignum-bench."""

    name: str
    s2n_commit: str
    bench_commit: str  # the benchmark commit whose timeout-map.json lists the set
    timeout_map_sha256: str
    counts: dict[str, int]  # per category
    comparable: str  # the published results this set is the one of
    counts_published: bool = True  # False: only the total was published; the categories are provebench's

    @property
    def total(self) -> int:
        """Problems in the set."""
        return sum(self.counts.values())


REVISIONS: dict[str, BenchRevision] = {
    r.name: r
    for r in (
        BenchRevision(
            name="paper",
            s2n_commit="9912d17e251519de0591b351d9020031c6715101",  # the benchmark's own pin (27 February 2026)
            bench_commit="4b3277f9bd24ba8e38a4cfc510690b1b2cffbff1",
            timeout_map_sha256="e7b523251d2725afdff457baa3cf3e57cf9ef125f8f79eac03d34e3186e88cea",
            counts={
                "functional_correctness_arm": 437,
                "functional_correctness_x86": 422,
                "program_state": 552,
                "bit_vector": 311,
                "generic": 562,
            },
            comparable="the paper (arXiv 2603.14628) and the leaderboard README's 2,284 problems",
        ),
        BenchRevision(
            name="leaderboard-2026-04",
            # The benchmark pinned its fork at c7f0988c (16 April 2026), which is not reachable; upstream's
            # b70f1349 of 15 April gives the same 2,301 problem ids.
            s2n_commit="b70f1349bdc930769dbe5fee070044c27395e70a",
            bench_commit="9a74ebde3102e5d8f9f9512e72f02842ef648863",
            timeout_map_sha256="b4e7c7d55d458b04035d50f4d733bfc2e08572059e53c266a64bb6cee3c0d313",
            counts={
                "functional_correctness_arm": 439,
                "functional_correctness_x86": 425,
                "program_state": 555,
                "bit_vector": 318,
                "generic": 564,
            },
            comparable="the leaderboard's entries of April 2026 (2,301 problems)",
        ),
        BenchRevision(
            name="refresh-2026-08",
            # The benchmark pins its fork at 5e0fc782, not reachable; upstream's ac31a43 of 17 August 2026 gives
            # the same 2,622 problem ids. The benchmark published the total only.
            s2n_commit="ac31a43db30953037abd1b64b540e65cf31f4c67",
            bench_commit="f10a9004f109af931c79beca0c4c9a05a208aeaa",
            timeout_map_sha256="2cbaad769643c211b3e79beb13cca56a48594478c953201b54389b6811649682",
            counts={
                "functional_correctness_arm": 463,
                "functional_correctness_x86": 435,
                "program_state": 601,
                "bit_vector": 437,
                "generic": 686,
            },
            comparable="the benchmark's refresh of 12 August 2026 (2,622 problems; no results published on it yet)",
            counts_published=False,
        ),
    )
}


def revision(name: str) -> BenchRevision:
    """The named revision, or a one-line error listing them."""
    try:
        return REVISIONS[name]
    except KeyError:
        raise UserError(f"unknown s2n-bignum-bench revision {name!r}; known: {', '.join(REVISIONS)}") from None


@dataclass(frozen=True)
class BenchFiles:
    """What an import at a revision takes from the benchmark: its timeout map, and its prompt files if at hand."""

    timeout_map: Path
    prompts: dict[str, bytes]  # name -> bytes, at the revision's benchmark commit


@contextmanager
def revision_bench_files(
    rev: BenchRevision, given: Path | None, bench_src: Path | None, progress: Callable[[str], None]
) -> Iterator[BenchFiles]:
    """The revision's timeout map and the benchmark's prompt files at the revision's commit.

    The map is the file given, or read from a benchmark clone or fetched; its hash is checked. The prompt
    files come from the clone or the fetched checkout: with only a map given, no benchmark is at hand.
    """
    prompts: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="provebench-map-") as tmp:
        if bench_src is not None:
            prompts = files_at("s2n-bignum-bench", bench_src, rev.bench_commit, BENCH_PROMPTS)
        if given is not None:
            data = read_bytes(given, "timeout map")  # a regular file, bounded: /dev/zero was read until MemoryError
            where = str(given)
        elif bench_src is not None:
            data = file_at("s2n-bignum-bench", bench_src, rev.bench_commit, TIMEOUT_MAP)
            where = f"{bench_src} at {rev.bench_commit[:12]}"
        else:
            with checkout_at("s2n-bignum-bench", rev.bench_commit, progress, url=BENCH_URL) as tree:
                data = (tree.path / TIMEOUT_MAP).read_bytes()
                prompts = {n: read_prompt_bytes(tree.path / n) for n in BENCH_PROMPTS if (tree.path / n).is_file()}
            where = f"{BENCH_URL} at {rev.bench_commit[:12]}"
        if hashlib.sha256(data).hexdigest() != rev.timeout_map_sha256:
            raise UserError(
                f"{where}: not the timeout map of revision {rev.name} (s2n-bignum-bench {rev.bench_commit[:12]}'s "
                f"{TIMEOUT_MAP}, sha256 {rev.timeout_map_sha256[:12]}...)"
            )
        path = Path(tmp) / TIMEOUT_MAP
        path.write_bytes(data)
        yield BenchFiles(timeout_map=path, prompts=prompts)


def import_revision(
    name: str,
    out: Path,
    s2n_src: Path | None,
    bench_src: Path | None,
    timeout_map: Path | None,
    progress: Callable[[str], None] = lambda _line: None,
    timeout_scale: float = TIMEOUT_SCALE,
    checker: str | None = None,
) -> tuple[BenchRevision, SourceImport]:
    """Import a named revision: its s2n-bignum commit with its timeout map; its counts must be the published ones."""
    rev = revision(name)
    with (
        revision_bench_files(rev, timeout_map, bench_src, progress) as bench,
        checkout_at("s2n-bignum", rev.s2n_commit, progress, url=S2N_BIGNUM_URL, clone=s2n_src) as tree,
    ):
        recorded = {"benchmark_revision": rev.name, "benchmark_commit": rev.bench_commit}
        found = import_source(
            tree.path,
            out,
            bench.timeout_map,
            progress=progress,
            timeout_scale=timeout_scale,
            metadata=recorded,
            checker=checker,
            prompts=bench.prompts,
        )
    got = found.report.by_category
    if got != rev.counts:
        shutil.rmtree(out, ignore_errors=True)
        diff = ", ".join(f"{c} {got.get(c, 0)} (published {n})" for c, n in rev.counts.items() if got.get(c, 0) != n)
        raise UserError(f"revision {rev.name}: the import at {rev.s2n_commit[:12]} gives other counts: {diff}")
    return rev, found
