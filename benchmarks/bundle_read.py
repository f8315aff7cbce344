"""Reading and validating a large submission bundle, against plain JSON parsing of the same bytes.

A bundle of s2n-bignum-bench's size at n = 16 (2,622 problems, about 42,000 attempts) is
packed with realistic proof texts; ``read_bundle`` (archive checks, two JSON schemas, hashes,
completeness) is timed against a baseline measured in the same process: decompressing the
archive and ``json.loads`` of every line, nothing else.

    .venv/bin/python benchmarks/bundle_read.py [--problems 2622] [--samples 16]
"""

from __future__ import annotations

import argparse
import gzip
import json
import tarfile
import tempfile
import time
from pathlib import Path

from provebench.boards import bundle
from provebench.core.journal import AttemptRecord, ProverAnswer
from provebench.core.model import CheckerInfo, Reason, Status, System, Verdict

CHECKER = CheckerInfo(
    image="provebench/hol-light-s2n:x", digest="sha256:" + "a" * 64, system=System.HOL_LIGHT, version="v"
)
PROOF = "ENSURES_WHILE_UP_TAC `k:num` `pc + 0x10` `pc + 0x44` `\\i s. read X0 s = word i`\nTHEN ARM_SIM_TAC\n" * 8


def make_bundle(path: Path, problems: int, samples: int) -> None:
    ids = [f"arm.bignum_{i}.THEOREM_{i}" for i in range(problems)]
    records = [
        AttemptRecord(
            problem=pid,
            sample=s,
            round=0,
            category="bit_vector",
            prover=ProverAnswer(
                name="openai", proof=PROOF, raw_reply="```ocaml\n" + PROOF + "```", tokens_in=1200, tokens_out=300
            ),
            verdict=Verdict(
                status=Status.PASS if (i + s) % 5 == 0 else Status.FAIL,
                reason=Reason.PROVED if (i + s) % 5 == 0 else Reason.TACTIC_FAILED,
                messages=('Exception: Failure "tactic failed"',),
                checker=CHECKER,
            ),
        )
        for i, pid in enumerate(ids)
        for s in range(samples)
    ]
    attempts = "".join(r.model_dump_json() + "\n" for r in records).encode()
    manifest = bundle.BundleManifest(
        provebench_version="bench",
        created_at="2026-11-26T00:00:00+00:00",
        submitter=bundle.Submitter(name="bench", contact="bench", open_data="full"),
        suite=bundle.SuiteRef(name="s2n-bignum", version="1", content_hash="sha256:" + "b" * 64),
        checkers=[CHECKER],
        prover={"name": "openai"},
        prompt_hashes={},
        sampling=bundle.Sampling(samples_per_problem=samples, repair_rounds=0, ks=[1, samples]),
        budget=bundle.Budget(
            samples_per_problem=samples,
            attempts=len(records),
            tokens_in=0,
            tokens_out=0,
            wall_seconds=0,
            prover_seconds=0,
            checker_cpu_seconds=0,
        ),
        problems=ids,
        attempts=bundle.AttemptsFile(count=len(records), sha256=bundle.sha256_of(attempts)),
    )
    bundle.write_tar(
        path,
        {
            bundle.MANIFEST_MEMBER: manifest.model_dump_json().encode(),
            bundle.ATTEMPTS_MEMBER: attempts,
            bundle.SUMMARY_MEMBER: b"{}",
        },
    )


def baseline(path: Path) -> int:
    """Decompress and parse every line as JSON: the least any reader does."""
    n = 0
    with tarfile.open(path, "r:gz") as tar:
        for m in tar:
            data = tar.extractfile(m).read()  # type: ignore[union-attr]
            for line in data.splitlines():
                if line.strip():
                    json.loads(line)
                    n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=2622)
    ap.add_argument("--samples", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.tar.gz"
        make_bundle(path, args.problems, args.samples)
        size = path.stat().st_size
        raw = len(gzip.decompress(path.read_bytes()))
        t0 = time.perf_counter()
        lines = baseline(path)
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        read = bundle.read_bundle(path)
        t_read = time.perf_counter() - t0
    print(f"bundle: {len(read.attempts)} attempts, {size / 1e6:.1f} MB compressed, {raw / 1e6:.1f} MB uncompressed")
    print(f"baseline (decompress + json.loads of {lines} lines): {t_base:.2f} s")
    print(f"read_bundle (schemas, hashes, completeness, models): {t_read:.2f} s")
    print(f"ratio read_bundle / baseline: {t_read / t_base:.1f}")


if __name__ == "__main__":
    main()
