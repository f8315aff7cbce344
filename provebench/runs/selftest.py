"""Self-tests: a suite's reference proofs checked with its checker, to validate a built image.

Long selftests (s2n-bignum's take hours) journal each verdict; a journalled verdict counts again
only if it came from a checker with the identity of the one that would check that problem now.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provebench.checking.engine import Engine
from provebench.core.errors import UserError
from provebench.core.journal import Lines, SelftestLine, read_cache
from provebench.core.model import Problem, Status, Verdict
from provebench.core.outputs import guard_output
from provebench.core.settings import Settings
from provebench.suites.load import Suite


def sample_problems(suite: Suite, sample: int | None, seed: int) -> list[Problem]:
    """All problems with a reference proof, or a seeded random sample of them."""
    with_ref = [p for p in suite.problems if p.reference_proof]
    if sample is None or sample >= len(with_ref):
        return with_ref
    return sorted(random.Random(seed).sample(with_ref, sample), key=lambda p: with_ref.index(p))


@dataclass(frozen=True)
class SelftestPlan:
    """The problems to check, and the sampled ones left out for their long timeouts."""

    problems: list[Problem]
    left_out: list[str]


def plan_selftest(suite: Suite, sample: int | None, seed: int, max_timeout_s: float | None) -> SelftestPlan:
    """What a selftest checks; problems are left out after sampling, so a seed names the same sample."""
    sampled = sample_problems(suite, sample, seed)
    if not sampled:
        raise UserError(f"suite {suite.name} has no reference proofs to check")
    keep = [p for p in sampled if max_timeout_s is None or p.timeout_s <= max_timeout_s]
    if not keep:
        raise UserError(f"every problem to check has a timeout over --max-timeout {max_timeout_s:g} s")
    return SelftestPlan(keep, [p.id for p in sampled if p not in keep])


def journal_path(path: Path, suite: Suite) -> Path:
    """``--journal``, unless appending to it would write into a run's files or the suite's own."""
    return guard_output(path, suite.files(), "selftest journal")


class SelftestJournal:
    """Verdicts of a long selftest, one JSON line each, so that a stopped selftest resumes.

    Lines of another suite revision are ignored; ERROR verdicts (no verdict) are checked again.
    """

    def __init__(self, path: Path, suite: Suite) -> None:
        self.path = path
        self.suite_hash = suite.content_hash

    def done(self) -> dict[str, Verdict]:
        """The verdicts journalled for this suite revision; a problem whose line cannot be used is checked again."""
        return {
            line.problem: line.verdict
            for line in read_cache(self.path, SelftestLine)
            if line.suite_hash == self.suite_hash and line.verdict.status is not Status.ERROR
        }

    def append(self, problem: Problem, verdict: Verdict) -> None:
        """Journal one verdict, flushed at once."""
        try:
            with Lines(self.path) as lines:
                lines.append(SelftestLine(problem=problem.id, suite_hash=self.suite_hash, verdict=verdict))
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write the selftest journal: {exc.strerror}") from None


def still_valid(journal: SelftestJournal, problems: Sequence[Problem], settings: Settings) -> dict[str, Verdict]:
    """The journalled verdicts that came from the checker (by identity) each problem would be checked by now."""
    journalled = journal.done()
    earlier = {p.id: v for p in problems if (v := journalled.get(p.id)) is not None and v.checker is not None}
    if not earlier:
        return {}
    probe = Engine(settings)  # asking for a checker's identity starts no checker
    try:
        now = {p.id: probe.checker(p) for p in problems if p.id in earlier}
    finally:
        probe.close()
    return {pid: v for pid, v in earlier.items() if v.checker is not None and v.checker.same_checker(now[pid])}


@dataclass(frozen=True)
class SelftestResult:
    """The verdict of every planned problem, journalled or new."""

    suite: str
    problems: list[Problem]
    verdicts: list[Verdict]
    left_out: list[str]

    @property
    def passed(self) -> int:
        """How many verdicts are PASS."""
        return sum(v.passed for v in self.verdicts)

    def failures(self) -> list[dict[str, Any]]:
        """Each verdict other than PASS, as JSON, with its problem."""
        pairs = zip(self.problems, self.verdicts, strict=True)
        return [{"problem": p.id, **v.model_dump(mode="json")} for p, v in pairs if not v.passed]

    def tightest(self) -> dict[str, Any] | None:
        """The pass that came closest to its timeout (wall or CPU): whether timeouts leave room on this machine."""
        used = [
            (max(v.check_seconds, v.cpu_seconds), p)
            for p, v in zip(self.problems, self.verdicts, strict=True)
            if v.passed
        ]
        if not used:
            return None
        seconds, p = max(used, key=lambda sp: sp[0] / sp[1].timeout_s)
        return {
            "problem": p.id,
            "seconds": round(seconds, 3),
            "timeout_s": p.timeout_s,
            "share": round(seconds / p.timeout_s, 4),
        }

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` report: at least ``checked``, ``passed`` and the failures."""
        return {
            "suite": self.suite,
            "checked": len(self.verdicts),
            "passed": self.passed,
            "failures": self.failures(),
            "left_out": self.left_out,
            "tightest": self.tightest(),
        }


def run_selftest(
    engine: Engine,
    suite: Suite,
    plan: SelftestPlan,
    earlier: dict[str, Verdict],
    checkers: int,
    on_verdict: Callable[[Problem, Verdict], None],
) -> SelftestResult:
    """Check the reference proofs of the planned problems that have no ``earlier`` verdict."""
    todo = [p for p in plan.problems if p.id not in earlier]
    engine.plan(todo)  # only these: checkers start on (and walk) the templates of what is left to check
    verdicts = engine.map([(p, p.reference_proof or "") for p in todo], None, checkers, on_verdict)
    new = dict(zip((p.id for p in todo), verdicts, strict=True))
    return SelftestResult(
        suite.name, plan.problems, [earlier.get(p.id) or new[p.id] for p in plan.problems], plan.left_out
    )
