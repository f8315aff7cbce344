"""Checking claimed verdicts again on this machine's checker: for adding, republishing and auditing boards.

Which attempts are checked again (every claimed PASS and a seeded sample of the
rest), whether this machine's checker is the one a board pins (by identity:
recipe, proof-system version, package list; never by image digest), and a
resumable record of the checks made: each result is kept in the cache directory
with the hash of the proof text it judged, so an interrupted re-verification
goes on where it stopped and a proof altered since is checked again.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from provebench.checking.engine import Engine
from provebench.core.journal import AttemptRecord, Lines, RecheckLine, read_cache
from provebench.core.model import CheckerInfo, Problem, Reason, Status
from provebench.core.settings import Settings

Key = tuple[str, int, int]


@dataclass(frozen=True)
class Result:
    """What one check again gave."""

    status: Status
    reason: Reason
    message: str


@dataclass(frozen=True)
class Mismatch:
    """A claimed verdict that did not reproduce."""

    problem: str
    sample: int
    round: int
    claimed: Status
    got: Result

    def line(self) -> str:
        """One line of a refusal or audit report."""
        why = f" ({self.got.reason.value}{': ' + self.got.message if self.got.message else ''})"
        where = f"{self.problem} sample {self.sample} round {self.round}"
        return f"{where}: claimed {self.claimed.value}, got {self.got.status.value}{why}"


def select(
    attempts: Sequence[AttemptRecord], fraction: float, seed: int, others_checkable: bool = True
) -> tuple[list[AttemptRecord], int]:
    """Every claimed PASS and a ``seed``-ed sample of ``fraction`` of the other verdicts; and how many others.

    ``others_checkable`` is False where the other verdicts' proofs are not at hand (a board that
    publishes passing proofs only): none of them is sampled then.
    """
    passes = [r for r in attempts if r.verdict.passed]
    others = [r for r in attempts if not r.verdict.passed]
    pool = others if others_checkable else []
    take = min(len(pool), round(len(pool) * fraction))
    sampled = random.Random(seed).sample(pool, take)
    return passes + sorted(sampled, key=lambda r: r.key), len(others)


def seed_of(bundle_sha256: str) -> int:
    """The sample's seed for a bundle: its hash, so that anyone draws the same sample."""
    return int(bundle_sha256.removeprefix("sha256:")[:12], 16)


def reproduces(claimed: Status, got: Status) -> bool:
    """A PASS must be a PASS again; a refusal a refusal (FAIL and TIMEOUT may trade places on another machine)."""
    return (claimed is Status.PASS) == (got is Status.PASS)


def mismatches(selected: Sequence[AttemptRecord], results: dict[Key, Result]) -> list[Mismatch]:
    """The selected attempts whose verdicts did not reproduce."""
    return [
        Mismatch(r.problem, r.sample, r.round, r.verdict.status, results[r.key])
        for r in selected
        if not reproduces(r.verdict.status, results[r.key].status)
    ]


# ----------------------------------------------------------------- checker identity against pins


def recipe_name(c: CheckerInfo) -> str:
    """The recipe a checker comes from (``hol-light``), whatever its hash."""
    return c.recipe.partition(":")[0] or c.image.rpartition("/")[2].partition(":")[0]


def pin_for(c: CheckerInfo, pins: Sequence[CheckerInfo]) -> CheckerInfo | None:
    """The pin that ``c`` is to be compared with: one of its identity, else one of its recipe or system."""
    for p in pins:
        if c.same_checker(p):
            return p
    same_recipe = [p for p in pins if recipe_name(p) == recipe_name(c)]
    same_system = [p for p in pins if p.system is c.system]
    nearest = same_recipe or same_system
    return nearest[0] if nearest else None


@dataclass(frozen=True)
class PinRefusal:
    """How a checker differs from the board's pin: one line, and the parts of the identity that differ."""

    line: str
    parts: frozenset[str]


def pin_refusal(
    checkers: Sequence[CheckerInfo], pins: Sequence[CheckerInfo], whose: str, where: str = "here"
) -> PinRefusal | None:
    """How ``whose`` checker differs from the board's pin (its values said to be ``where``), or None if pinned."""
    for c in checkers:
        pin = pin_for(c, pins)
        if pin is None:
            pinned = ", ".join(p.recipe or p.image for p in pins)
            line = f"{whose} {recipe_name(c)} checker is not one the board pins ({pinned})"
            return PinRefusal(line, frozenset({"recipe"}))
        differences = c.identity_differences(pin, (where, "pinned"))
        if differences:
            mine, theirs = c.identity_parts(), pin.identity_parts()
            parts = frozenset(k for k in mine if mine[k] != theirs[k] or not mine[k])
            line = f"{whose} {recipe_name(c)} checker differs from the board's pin in its {'; '.join(differences)}"
            return PinRefusal(line, parts)
    return None


def local_checkers(engine: Engine, problems: Sequence[Problem]) -> list[CheckerInfo]:
    """The checkers this machine would check these problems with (known before any loads)."""
    seen: dict[tuple[str, str, str], CheckerInfo] = {}
    for p in problems:
        c = engine.checker(p)
        seen.setdefault((c.recipe, c.version, c.packages), c)
    return list(seen.values())


# ----------------------------------------------------------------- checking again, resumably


def _proof_hash(proof: str) -> str:
    return hashlib.sha256(proof.encode("utf-8")).hexdigest()


def progress_path(settings: Settings, subject: str, checkers: Sequence[CheckerInfo]) -> Path:
    """Where the checks of ``subject`` (a bundle's or entry's hash) on these checkers are kept."""
    identity = "\0".join(sorted(f"{c.recipe}|{c.version}|{c.packages}" for c in checkers))
    name = hashlib.sha256(f"{subject}\0{identity}".encode()).hexdigest()[:32]
    return settings.cache_dir / "reverify" / f"{name}.jsonl"


def _done(path: Path) -> dict[Key, tuple[str, Result]]:
    """The checks kept in ``path`` with the hashes of the proofs they judged (a line it cannot use: checked again)."""
    return {c.key: (c.proof_sha256, Result(c.status, c.reason, c.message)) for c in read_cache(path, RecheckLine)}


@dataclass
class Hooks:
    """Progress of a re-verification."""

    status: Callable[[str], None] = lambda _text: None
    checked: Callable[[int, int], None] = lambda _done, _total: None


def as_run(problem: Problem, run_timeout_s: float | None) -> Problem:
    """The problem with the time limit the run had: its own, or the run's shorter override.

    A shorter limit is the submitter's handicap and must be kept for refusals to reproduce;
    a longer one is not the suite's rule, so claims get no more time than the problem allows.
    """
    limit = problem.limit(run_timeout_s)
    return problem if limit == problem.timeout_s else problem.model_copy(update={"timeout_s": limit})


def check_again(
    selected: Sequence[AttemptRecord],
    problems: dict[str, Problem],
    engine: Engine,
    settings: Settings,
    progress: Path,
    run_timeout_s: float | None,
    hooks: Hooks,
) -> dict[Key, Result]:
    """Check the selected attempts on the engine; results kept in ``progress`` for the same proofs are reused.

    An ERROR (no verdict) is returned but not kept, so the next try checks it again.
    """
    kept = _done(progress)
    results: dict[Key, Result] = {}
    for r in selected:
        if (k := kept.get(r.key)) is not None and k[0] == _proof_hash(r.prover.proof or ""):
            results[r.key] = k[1]
    todo = [r for r in selected if r.key not in results]
    if results:
        hooks.status(f"resuming re-verification: {len(results)} of {len(selected)} already checked")
    hooks.status(f"re-verifying {len(selected)} attempts ({len(todo)} to check)")
    progress.parent.mkdir(parents=True, exist_ok=True)
    count = len(results)
    hooks.checked(count, len(selected))
    if not todo:
        return results
    with Lines(progress) as journal:
        items = [(as_run(problems[r.problem], run_timeout_s), r.prover.proof or "") for r in todo]
        for r, verdict in zip(todo, engine.map(items, None, settings.checkers), strict=True):
            message = verdict.messages[0].splitlines()[0][:200] if verdict.messages else ""
            results[r.key] = Result(verdict.status, verdict.reason, message)
            if verdict.status is not Status.ERROR:
                journal.append(
                    RecheckLine(
                        problem=r.problem,
                        sample=r.sample,
                        round=r.round,
                        proof_sha256=_proof_hash(r.prover.proof or ""),
                        status=verdict.status,
                        reason=verdict.reason,
                        message=message,
                    )
                )
            count += 1
            hooks.checked(count, len(selected))
    return results


def errors(selected: Sequence[AttemptRecord], results: dict[Key, Result]) -> list[AttemptRecord]:
    """The selected attempts that got no verdict (checker ERROR)."""
    return [r for r in selected if results[r.key].status is Status.ERROR]
