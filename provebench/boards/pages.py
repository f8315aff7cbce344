"""Self-contained HTML pages (and a Markdown table) rendered with Jinja2: run reports and leaderboards.

Every page inlines its styles, scripts and SVG charts, so it opens from a
file or a plain static host with no network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from provebench.boards import charts
from provebench.boards.board import Board, Entry
from provebench.core.errors import UserError
from provebench.core.settings import Settings
from provebench.runs.run import RunDir, summarize_run
from provebench.runs.stats import latest_records
from provebench.suites.load import find_suite


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _status_order(item: tuple[str, int]) -> int:
    order = ["PASS", "FAIL", "TIMEOUT", "CHEATING", "ERROR"]
    return order.index(item[0]) if item[0] in order else len(order)


def _env() -> jinja2.Environment:
    # Sandboxed, though the templates are provebench's own: pages render what bundles and journals
    # say, and no template, edited or not, should reach Python from here.
    env = SandboxedEnvironment(
        loader=jinja2.PackageLoader("provebench.boards", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["pct"] = _pct
    env.filters["md"] = _md_cell
    env.filters["short"] = _short_hash
    return env


def _short_hash(text: str) -> str:
    """A hash cut to its first 12 hex digits, marked as cut only when it was."""
    return text[:19] + "…" if len(text) > 19 else text


def _md_cell(text: object) -> str:
    """Text safe inside a Markdown table cell (a submitter's name may hold anything)."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _prover_line(prover: dict[str, Any]) -> str:
    name = str(prover.get("name", "?"))
    model = prover.get("model")
    return f"{name} ({model})" if model else name


def render_run_report(rundir: RunDir) -> str:
    """The HTML report of a run: summary, pass@k curve, categories, and every attempt with its details."""
    config = rundir.config()
    manifest = rundir.read_manifest()
    summary = summarize_run(rundir, config)
    attempts = sorted(latest_records(rundir.records()).values(), key=lambda r: r.key)
    lo, hi = summary.solved_interval_95
    t = summary.totals
    cards = [
        ("problems solved", f"{summary.solved} / {summary.problems}"),
        ("solved, 95% interval", f"{_pct(summary.solved_fraction)} ({_pct(lo)}–{_pct(hi)})"),
        ("samples per problem", str(summary.samples_per_problem)),
        ("attempts" + ("" if summary.complete else " (run incomplete)"), str(summary.attempts)),
        ("verdicts", ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items(), key=_status_order)) or "none"),
        ("wall time", f"{t.wall_seconds:.1f} s"),
        ("checker CPU time", f"{t.checker_cpu_seconds:.2f} s"),
        ("tokens in / out", f"{t.tokens_in} / {t.tokens_out}"),
    ]
    if t.cost is not None:
        cards.append(("cost", f"{t.cost:.4f}"))
    if summary.benchmark is not None:
        cards.append(("the benchmark's own judge", f"{summary.benchmark.solved} / {summary.problems} solved"))
    cats = list(summary.by_category)
    title = f"{manifest.suite.name} / {_prover_line(manifest.prover)}"
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            title=title,
            suite=manifest.suite,
            prover_line=_prover_line(manifest.prover),
            checkers=manifest.checkers,
            provebench_version=manifest.provebench_version or "?",
            cards=cards,
            ks=list(summary.pass_at_k),
            by_category=summary.by_category,
            layout=summary.layout,
            pass_at_k_svg=charts.pass_at_k_curve({title: summary.pass_at_k}),
            category_svg=charts.category_bars(
                cats, {title: [c.solved / c.problems if c.problems else 0.0 for c in summary.by_category.values()]}
            ),
            statuses=sorted({a.verdict.status.value for a in attempts}),
            attempts=attempts,
            details=[
                {
                    "proof": a.prover.proof,
                    "raw_reply": a.prover.raw_reply,
                    "messages": list(a.verdict.messages),
                    "trajectory": trajectory_text(a.prover.trajectory),
                }
                for a in attempts
            ],
        )
    )


def trajectory_text(trajectory: Sequence[dict[str, Any]] | None) -> str | None:
    """An agent's tool calls as lines to read: each call, its arguments and time, and what came back."""
    if not trajectory:
        return None
    lines, n = [], 0
    for entry in trajectory:
        if "tool" in entry:
            n += 1
            args = json.dumps(entry.get("arguments", {}), ensure_ascii=False)
            lines.append(f"{n}. {entry['tool']} {args} ({entry.get('seconds', 0)} s)")
            lines.append(f"   -> {json.dumps(entry.get('result'), ensure_ascii=False)[:1500]}")
        elif "say" in entry:
            lines.append(f"   says: {str(entry['say'])[:1500]}")
        elif "stopped" in entry:
            lines.append(f"stopped: {entry['stopped']}")
    return "\n".join(lines)


def _cost_axis(entries: list[Entry]) -> tuple[str, list[float]]:
    """Money where every entry reports it; otherwise prover tokens; otherwise checker CPU time."""
    if entries and all(e.budget.cost is not None for e in entries):
        return "cost (USD)", [float(e.budget.cost or 0.0) for e in entries]
    if entries and all(e.budget.tokens_in + e.budget.tokens_out > 0 for e in entries):
        return "prover tokens (in + out)", [float(e.budget.tokens_in + e.budget.tokens_out) for e in entries]
    return "checker CPU seconds", [e.budget.checker_cpu_seconds for e in entries]


def render_board(board: Board, suites_dir: Path | None = None) -> tuple[str, str]:
    """``index.html`` and ``README.md`` of a board (problem categories from the suite, when it is at hand)."""
    config = board.config()
    every = board.entries()
    entries = [e for e in every if e.stale is None]
    if config is None:
        suite_name, version, content_hash, checkers = board.path.name, "", "", []
    else:
        suite_name, version, content_hash = config.suite.name, config.suite.version, config.suite.content_hash
        checkers = config.checkers
    ks = sorted({k for e in entries for k in e.stats.pass_at_k})
    categories = sorted({c for e in entries for c in e.stats.by_category})
    problems = sorted({p for e in entries for p in e.stats.by_problem})
    category_of = {}
    if config is not None:
        try:
            suite = find_suite(config.suite.name, suites_dir or Settings().suites_dir)
            category_of = {p.id: p.category for p in suite.problems}
        except UserError:
            pass  # the board renders without the suite at hand; categories are then left out
    label, costs = _cost_axis(entries)
    context: dict[str, Any] = {
        "suite_name": suite_name,
        "version": version,
        "content_hash": content_hash,
        "checkers": checkers,
        "entries": entries,
        "stale": [e for e in every if e.stale is not None],
        "ks": ks,
        "categories": categories,
        "problems": problems,
        "category_of": category_of,
        "prover_line": _prover_line,
        "cost_label": label,
        "costs": costs,
    }
    if entries:
        context["interval_svg"] = charts.interval_chart(
            [
                charts.IntervalPoint(e.name, e.stats.solved / e.stats.problems, *e.stats.solved_interval_95)
                for e in entries
            ]
        )
        context["category_svg"] = charts.category_bars(
            categories,
            {
                e.name: [
                    (c.solved / c.problems if (c := e.stats.by_category.get(cat)) and c.problems else 0.0)
                    for cat in categories
                ]
                for e in entries
            },
        )
        context["cost_svg"] = charts.cost_scatter(
            [(e.name, cost, e.stats.solved) for e, cost in zip(entries, costs, strict=True)], label
        )
        context["pass_at_k_svg"] = charts.pass_at_k_curve({e.name: e.stats.pass_at_k for e in entries})
    env = _env()
    return env.get_template("board.html.j2").render(**context), env.get_template("board.md.j2").render(**context)
