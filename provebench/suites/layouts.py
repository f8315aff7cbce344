"""A benchmark's own layout of results: its columns and its verdict names, as data a suite carries.

An importer writes the layout into ``suite.yaml`` (``benchmark_layout``); a run records it in
its manifest, and the summary then also gives solved counts in the benchmark's columns and
verdict counts under the benchmark's names, provebench's beside them, so that a run can be
put next to the benchmark's published table. The core knows no benchmark: only this data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from provebench.core.journal import AttemptRecord
from provebench.core.model import Reason, Status


class BenchmarkLayout(BaseModel):
    """How a benchmark lays out its results."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="the benchmark's name, heading its columns in reports")
    # (category, the benchmark's label for it), in the benchmark's order.
    columns: list[tuple[str, str]] = Field(min_length=1)
    # provebench's "STATUS" or "STATUS/reason" -> the benchmark's verdict name; "STATUS/reason" wins.
    verdicts: dict[str, str] = Field(default_factory=dict)

    def verdict_name(self, status: Status, reason: Reason) -> str:
        """The benchmark's name for a provebench verdict (provebench's own status if the layout has none)."""
        return self.verdicts.get(f"{status.value}/{reason.value}", self.verdicts.get(status.value, status.value))


class LayoutColumn(BaseModel):
    """One of the benchmark's columns."""

    model_config = ConfigDict(frozen=True)

    label: str
    category: str  # "" for the overall column
    problems: int
    solved: int


class LayoutView(BaseModel):
    """A run's results in a benchmark's layout."""

    model_config = ConfigDict(frozen=True)

    name: str
    columns: list[LayoutColumn]
    overall: LayoutColumn
    # The benchmark's verdict name -> provebench's "STATUS reason" -> samples (each sample's last round).
    verdicts: dict[str, dict[str, int]]


def layout_view(
    layout: BenchmarkLayout,
    problems_by_category: Mapping[str, int],
    solved_by_category: Mapping[str, int],
    records: Iterable[AttemptRecord],
) -> LayoutView:
    """The results in ``layout``: solved per column and overall, and every sample's verdict under both names."""
    columns = [
        LayoutColumn(
            label=label,
            category=cat,
            problems=problems_by_category.get(cat, 0),
            solved=solved_by_category.get(cat, 0),
        )
        for cat, label in layout.columns
    ]
    overall = LayoutColumn(
        label="All",
        category="",
        problems=sum(problems_by_category.values()),
        solved=sum(solved_by_category.values()),
    )
    last: dict[tuple[str, int], AttemptRecord] = {}
    for r in records:
        if r.verdict.status is Status.ERROR:
            continue  # no verdict
        key = (r.problem, r.sample)
        if key not in last or r.round >= last[key].round:
            last[key] = r
    named: dict[str, Counter[str]] = {}
    for r in last.values():
        v = r.verdict
        named.setdefault(layout.verdict_name(v.status, v.reason), Counter())[f"{v.status.value} {v.reason.value}"] += 1
    verdicts = {name: dict(sorted(c.items())) for name, c in sorted(named.items())}
    return LayoutView(name=layout.name, columns=columns, overall=overall, verdicts=verdicts)
