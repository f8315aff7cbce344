"""A run's summary as text tables (the HTML report builds on the same summary)."""

from __future__ import annotations

from rich.table import Table

from provebench.runs.stats import Summary
from provebench.suites.layouts import LayoutView


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summary_tables(summary: Summary, title: str) -> list[Table]:
    """The headline, pass@k, per-category and totals tables."""
    lo, hi = summary.solved_interval_95
    head = Table(title=title, show_header=False, title_justify="left")
    head.add_column(style="bold")
    head.add_column()
    head.add_row(
        "solved",
        f"{summary.solved}/{summary.problems} ({_pct(summary.solved_fraction)}; 95% CI {_pct(lo)}-{_pct(hi)})",
    )
    head.add_row("samples per problem", str(summary.samples_per_problem))
    head.add_row("attempts", str(summary.attempts) + ("" if summary.complete else "  (run incomplete)"))
    head.add_row("verdicts", ", ".join(f"{n} {s}" for s, n in summary.by_status.items()) or "none")
    if summary.benchmark is not None:
        b = summary.benchmark
        head.add_row(
            "the benchmark's own judge",
            f"{b.solved}/{summary.problems} solved; "
            + ", ".join(f"pass@{k} {_pct(v)}" for k, v in b.pass_at_k.items())
            + f"; {b.accepted_but_refused} attempt(s) it accepts that provebench refuses",
        )
    t = summary.totals
    head.add_row("wall time", f"{t.wall_seconds:.1f} s")
    head.add_row("checker CPU time", f"{t.checker_cpu_seconds:.2f} s (check wall time {t.checker_wall_seconds:.2f} s)")
    if t.tokens_in or t.tokens_out:
        reasoning = f" ({t.tokens_reasoning} of them reasoning)" if t.tokens_reasoning else ""
        head.add_row("tokens in / out", f"{t.tokens_in} / {t.tokens_out}{reasoning}")
    if t.cost is not None:
        head.add_row("cost", f"{t.cost:.4f}")
    if t.cached_replies:
        head.add_row("replies from the cache", f"{t.cached_replies} (not asked again; not in the tokens and cost)")
    if t.api_retries or t.infra_retries:
        head.add_row("retries", f"{t.api_retries} API, {t.infra_retries} checker")

    ks = list(summary.pass_at_k)
    cats = Table(
        "category", "problems", "solved", *(f"pass@{k}" for k in ks), title="by category", title_justify="left"
    )
    for name, c in summary.by_category.items():
        cats.add_row(name, str(c.problems), str(c.solved), *(_pct(c.pass_at_k.get(k, 0.0)) for k in ks))
    cats.add_row(
        "all",
        str(summary.problems),
        str(summary.solved),
        *(_pct(summary.pass_at_k[k]) for k in ks),
        style="bold",
    )
    return [head, cats] + ([layout_table(summary.layout)] if summary.layout is not None else [])


def layout_table(view: LayoutView) -> Table:
    """Solved counts in the benchmark's own columns, and its verdict names with provebench's beside them."""
    cols = [*view.columns, view.overall]
    table = Table("", *(c.label for c in cols), title=f"as {view.name} lays it out", title_justify="left")
    table.add_row("solved", *(str(c.solved) for c in cols), style="bold")
    table.add_row("problems", *(str(c.problems) for c in cols))
    table.add_row("% solved", *(_pct(c.solved / c.problems if c.problems else 0.0) for c in cols))
    verdicts = Table(f"{view.name} verdict", "samples", "provebench's verdicts", title_justify="left")
    for name, ours in view.verdicts.items():
        verdicts.add_row(name, str(sum(ours.values())), ", ".join(f"{n} {v}" for v, n in ours.items()))
    outer = Table.grid(padding=(1, 0))
    outer.add_row(table)
    outer.add_row(verdicts)
    return outer
