"""Run statistics as pure functions over journal records: pass@k, Wilson intervals, totals."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from provebench.core.journal import AttemptRecord
from provebench.core.model import Status
from provebench.suites.layouts import BenchmarkLayout, LayoutView, layout_view


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with ``n`` samples of which ``c`` passed (Chen et al. 2021).

    ``1 - C(n-c, k) / C(n, k)`` in the product form ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``,
    which never forms the huge binomials.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def wilson_interval(successes: int, total: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default), as fractions."""
    if total <= 0:
        return (0.0, 1.0)
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ProblemRef:
    """What the summary needs to know of a problem of the run."""

    id: str
    category: str


class Totals(BaseModel):
    """Resources spent over the run."""

    model_config = ConfigDict(frozen=True)

    tokens_in: int = 0
    tokens_out: int = 0
    tokens_reasoning: int = 0  # of tokens_out, where the API counts them apart
    cost: float | None = None
    prover_seconds: float = 0.0
    checker_cpu_seconds: float = 0.0
    checker_wall_seconds: float = 0.0
    wall_seconds: float = 0.0
    api_retries: int = 0
    infra_retries: int = 0
    cached_replies: int = 0  # replies taken from the reply cache; their tokens and cost are not counted above


class CategorySummary(BaseModel):
    """One category's share of the results."""

    model_config = ConfigDict(frozen=True)

    problems: int
    solved: int
    pass_at_k: dict[int, float]


class ProblemCounts(BaseModel):
    """Samples with a verdict (n) and samples that passed (c) of one problem."""

    model_config = ConfigDict(frozen=True)

    n: int
    c: int


class BenchmarkScore(BaseModel):
    """The score under the benchmark's own, laxer judge (a run's protocol), beside provebench's."""

    model_config = ConfigDict(frozen=True)

    solved: int
    pass_at_k: dict[int, float]
    accepted_but_refused: int  # attempts the benchmark's judge accepts and provebench does not


class Summary(BaseModel):
    """The typed summary written to ``summary.json``."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    problems: int
    attempts: int
    solved: int
    solved_fraction: float
    solved_interval_95: tuple[float, float]
    solved_first_round: int
    samples_per_problem: int
    complete: bool
    pass_at_k: dict[int, float]
    by_category: dict[str, CategorySummary]
    by_status: dict[str, int]
    by_reason: dict[str, int]
    by_problem: dict[str, ProblemCounts]
    totals: Totals
    benchmark: BenchmarkScore | None = None
    layout: LayoutView | None = None  # the results in the benchmark's own columns and verdict names


def latest_records(records: Iterable[AttemptRecord]) -> dict[tuple[str, int, int], AttemptRecord]:
    """One record per (problem, sample, round); a later record supersedes an ERROR one."""
    latest: dict[tuple[str, int, int], AttemptRecord] = {}
    for r in records:
        key = (r.problem, r.sample, r.round)
        if key not in latest or latest[key].verdict.status is Status.ERROR:
            latest[key] = r
    return latest


def _pass_at_ks(counts: Sequence[tuple[int, int]], ks: Sequence[int]) -> dict[int, float]:
    """Mean pass@k over problems that have at least k samples with verdicts."""
    out = {}
    for k in ks:
        eligible = [(n, c) for n, c in counts if n >= k]
        out[k] = round(sum(pass_at_k(n, c, k) for n, c in eligible) / len(eligible), 6) if eligible else 0.0
    return out


def _sample_counts(
    chains: dict[tuple[str, int], list[AttemptRecord]], passed: Callable[[AttemptRecord], bool]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per problem: samples with a verdict (n) and samples where ``passed`` holds for a round (c)."""
    n_of: dict[str, int] = defaultdict(int)
    c_of: dict[str, int] = defaultdict(int)
    for (problem, _sample), chain in chains.items():
        decided = [r for r in chain if r.verdict.status is not Status.ERROR]
        if decided:
            n_of[problem] += 1
            c_of[problem] += any(passed(r) for r in decided)
    return n_of, c_of


def summarize(
    problems: Sequence[ProblemRef],
    records: Iterable[AttemptRecord],
    samples: int,
    ks: Sequence[int],
    wall_seconds: float = 0.0,
    layout: BenchmarkLayout | None = None,
) -> Summary:
    """Aggregate journal records of a run over ``problems`` with ``samples`` samples each.

    A sample passes when any of its rounds passes. Samples whose verdict is ERROR
    (the infrastructure failed) have no verdict and count in neither n nor c.
    """
    records = list(records)
    latest = latest_records(records)
    chains: dict[tuple[str, int], list[AttemptRecord]] = defaultdict(list)
    for r in latest.values():
        chains[(r.problem, r.sample)].append(r)
    n_of, c_of = _sample_counts(chains, lambda r: r.verdict.passed)
    _, first_of = _sample_counts(chains, lambda r: r.verdict.passed and r.round == 0)
    first_round_pass = {problem for problem, c in first_of.items() if c}
    ks = sorted(k for k in set(ks) if 1 <= k <= samples)
    counts = {p.id: (n_of[p.id], c_of[p.id]) for p in problems}
    solved = sum(1 for n, c in counts.values() if c > 0)
    by_category: dict[str, CategorySummary] = {}
    for cat in sorted({p.category for p in problems}):
        members = [counts[p.id] for p in problems if p.category == cat]
        by_category[cat] = CategorySummary(
            problems=len(members), solved=sum(1 for _n, c in members if c > 0), pass_at_k=_pass_at_ks(members, ks)
        )
    all_records = list(latest.values())
    by_status: dict[str, int] = defaultdict(int)
    by_reason: dict[str, int] = defaultdict(int)
    for r in all_records:
        by_status[r.verdict.status.value] += 1
        by_reason[r.verdict.reason.value] += 1
    answers = [r.prover for r in all_records]
    verdicts = [r.verdict for r in all_records]
    # Paid for: every reply asked for, that of an attempt redone after an ERROR too; not one from the cache.
    paid = [r.prover for r in records if not r.prover.cached]
    costs = [a.cost for a in paid if a.cost is not None]
    totals = Totals(
        tokens_in=sum(a.tokens_in for a in paid),
        tokens_out=sum(a.tokens_out for a in paid),
        tokens_reasoning=sum(a.tokens_reasoning for a in paid),
        cost=round(sum(costs), 6) if costs else None,
        prover_seconds=round(sum(a.seconds for a in answers), 3),
        checker_cpu_seconds=round(sum(v.cpu_seconds for v in verdicts), 3),
        checker_wall_seconds=round(sum(v.check_seconds for v in verdicts), 3),
        wall_seconds=round(wall_seconds, 3),
        api_retries=sum(len(a.api_retries) for a in answers),
        infra_retries=sum(r.infra_retries for r in all_records),
        cached_replies=sum(1 for a in answers if a.cached),
    )
    return Summary(
        problems=len(problems),
        attempts=len(all_records),
        solved=solved,
        solved_fraction=round(solved / len(problems), 6) if problems else 0.0,
        solved_interval_95=tuple(round(x, 6) for x in wilson_interval(solved, len(problems))),  # type: ignore[arg-type]
        solved_first_round=len(first_round_pass & set(counts)),
        samples_per_problem=samples,
        complete=all(n >= samples for n, _c in counts.values()),
        pass_at_k=_pass_at_ks(list(counts.values()), ks),
        by_category=by_category,
        by_status=dict(sorted(by_status.items())),
        by_reason=dict(sorted(by_reason.items())),
        by_problem={pid: ProblemCounts(n=n, c=c) for pid, (n, c) in counts.items()},
        totals=totals,
        benchmark=_benchmark_score(problems, chains, ks),
        layout=None
        if layout is None
        else layout_view(
            layout,
            {cat: c.problems for cat, c in by_category.items()},
            {cat: c.solved for cat, c in by_category.items()},
            all_records,
        ),
    )


def _benchmark_score(
    problems: Sequence[ProblemRef], chains: dict[tuple[str, int], list[AttemptRecord]], ks: Sequence[int]
) -> BenchmarkScore | None:
    """The same counting under the benchmark's judge, where the run recorded it."""
    judged = [r.verdict for chain in chains.values() for r in chain if r.verdict.benchmark_pass is not None]
    if not judged:
        return None
    n_of, c_of = _sample_counts(chains, lambda r: bool(r.verdict.benchmark_pass))
    counts = [(n_of[p.id], c_of[p.id]) for p in problems]
    return BenchmarkScore(
        solved=sum(1 for _n, c in counts if c > 0),
        pass_at_k=_pass_at_ks(counts, ks),
        accepted_but_refused=sum(1 for v in judged if v.benchmark_pass and not v.passed),
    )
