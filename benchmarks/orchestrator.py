"""The orchestrator's own overhead, and real baseline runs, measured in one process.

Part 1: 10,000 attempts with an instant in-process prover and verifier (benchmark
instruments, not checkers), through the whole run path (run directory, journal
flushed per record, summary). Printed against a baseline measured in the same
process: a bare loop that only builds and journals the same records.
Part 2: the baseline prover on hol-light-core on real warm checkers (1, then 2),
attempts per second after the checkers loaded.

    .venv/bin/python benchmarks/orchestrator.py [--attempts 10000] [--real-samples 4] [--skip-real]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from provebench.core.journal import AttemptRecord, Journal, ProverAnswer
from provebench.core.model import CheckerInfo, Problem, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.runs.stats import Summary

INSTANT = CheckerInfo(image="instant", digest="sha256:instant", system=System.HOL_LIGHT, version="instant")


class InstantProver(Prover):
    """Answers at once with a fixed tactic."""

    name = "instant"

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        return ProverOutput(proof="ARITH_TAC", raw_reply="ARITH_TAC")


class InstantVerifier(Verifier):
    """Judges at once, without a thread: every other sample passes."""

    system = System.HOL_LIGHT
    checker = INSTANT

    def prepare(self) -> None:
        pass

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        return Verdict(status=Status.PASS, reason=Reason.PROVED, checker=INSTANT)

    def close(self) -> None:
        pass


def _run(
    out: Path,
    settings: Settings,
    samples: int,
    prover: Prover | None,
    verifier: Verifier | None,
    timeout_s: float | None = None,
    checkers: int = 1,
) -> tuple[float, int, Summary]:
    config = {"suite": "hol-light-core", "n": samples, "k": [1], "prover_connections": 8}
    if timeout_s is not None:
        config["timeout_s"] = timeout_s
    rc = build_config(config, {}, "benchmark")
    settings = settings.model_copy(update={"checkers": checkers})
    plan = plan_run(rc, settings)
    p = prover or make_prover(rc.prover.name, rc.prover.settings())
    p.prepare(plan.suite.problems)
    t_ready = 0.0

    def started(_total: int, _pending: int, _done: Sequence[AttemptRecord]) -> None:
        nonlocal t_ready
        t_ready = time.perf_counter()

    factory = (lambda _s, _p: verifier) if verifier is not None else None
    rundir = RunDir.create(out, "bench", p.name)
    kwargs = {"make_verifier": factory} if factory is not None else {}
    summary = execute(plan, rundir, p, settings, RunHooks(started=started), **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t_ready
    return elapsed, summary.attempts, summary


def _bare_journal(path: Path, problems: Sequence[Problem], samples: int) -> float:
    """Build and journal the same records with no scheduling at all."""
    journal = Journal(path)
    journal.open()
    t0 = time.perf_counter()
    for sample in range(samples):
        for p in problems:
            journal.append(
                AttemptRecord(
                    problem=p.id,
                    sample=sample,
                    round=0,
                    category=p.category,
                    prover=ProverAnswer(name="instant", proof="ARITH_TAC", raw_reply="ARITH_TAC"),
                    verdict=Verdict(status=Status.PASS, reason=Reason.PROVED, checker=INSTANT),
                    finished_at=time.time(),
                )
            )
    elapsed = time.perf_counter() - t0
    journal.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attempts", type=int, default=10_000, help="attempts of the overhead measurement")
    ap.add_argument("--real-samples", type=int, default=4, help="samples per problem of the real runs")
    ap.add_argument("--real-timeout", type=float, default=5.0, help="check timeout of the real runs (s)")
    ap.add_argument("--skip-real", action="store_true", help="only measure the orchestrator's overhead")
    args = ap.parse_args()
    settings = Settings(apt_ignore_valid_until=True)
    problems = plan_run(build_config({"suite": "hol-light-core"}, {}, "benchmark"), settings).problems
    samples = max(1, args.attempts // len(problems))
    with tempfile.TemporaryDirectory(prefix="provebench-bench-") as tmp:
        bare = _bare_journal(Path(tmp) / "bare.jsonl", problems, samples)
        full, attempts, _ = _run(Path(tmp) / "run", settings, samples, InstantProver(), InstantVerifier())
        n = len(problems) * samples
        print(f"overhead, {attempts} attempts (instant prover and verifier):")
        print(f"  bare journalling loop:   {n / bare:9.0f} attempts/s")
        print(f"  orchestrator + journal:  {attempts / full:9.0f} attempts/s  (target > 2000)")
        print(f"  ratio orchestrator/bare time: {full / bare:.2f}")
        if args.skip_real:
            return
        rates = []
        for checkers in (1, 2):
            elapsed, attempts, summary = _run(
                Path(tmp) / f"real{checkers}",
                settings,
                args.real_samples,
                None,
                None,
                timeout_s=args.real_timeout,
                checkers=checkers,
            )
            rates.append(attempts / elapsed)
            print(
                f"baseline prover on hol-light-core, {checkers} warm checker(s), n={args.real_samples}, "
                f"timeout {args.real_timeout:g} s: {attempts} attempts in {elapsed:.1f} s = {rates[-1]:.2f} "
                f"attempts/s; solved {summary.solved}/{summary.problems}"
            )
        print(f"  ratio 2 checkers / 1 checker: {rates[1] / rates[0]:.2f}")


if __name__ == "__main__":
    main()
