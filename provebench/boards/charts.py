"""Charts for reports and boards, drawn by matplotlib as inline SVG (no network, no scripts).

Output is deterministic for equal data (fixed ids, no date), so a board
rendered twice from the same entries gives the same files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_SETUP_DONE = False


def _plt() -> Any:
    """The pyplot module, with a headless backend and deterministic SVG output (imported on first use: it is slow)."""
    global _SETUP_DONE
    import matplotlib

    if not _SETUP_DONE:
        matplotlib.use("Agg")
        matplotlib.rcParams.update(
            {
                "svg.hashsalt": "provebench",
                "svg.fonttype": "none",  # text stays text: smaller, searchable, styled by the page's font
                "font.size": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        )
        _SETUP_DONE = True
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _plt().close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG is inlined in HTML
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def pass_at_k_curve(series: dict[str, dict[int, float]]) -> str:
    """pass@k against k, one line per series."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    for name, points in series.items():
        ks = sorted(points)
        ax.plot(ks, [100 * points[k] for k in ks], marker="o", markersize=3, label=name)
    ax.set_xlabel("k (samples)")
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)
    all_ks = sorted({k for p in series.values() for k in p})
    if len(all_ks) > 1:
        ax.set_xscale("log", base=2)
        shown = [k for k in all_ks if k & (k - 1) == 0 or k == all_ks[-1]]  # powers of two, and the largest k
        ax.set_xticks(shown, [str(k) for k in shown])
        ax.minorticks_off()
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8)
    return _svg(fig, "pass@k curve")


def category_bars(categories: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """Solved fraction per category (horizontal bars), one bar per series in each category."""
    plt = _plt()
    height = max(2.0, 0.28 * len(categories) * max(1, len(series)) + 0.8)
    fig, ax = plt.subplots(figsize=(5.2, height))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ys = [c + i * width for c in range(len(categories))]
        ax.barh(ys, [100 * v for v in values], height=width, label=name)
    ax.set_yticks([c + 0.4 - width / 2 for c in range(len(categories))], list(categories))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("problems solved (%)")
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _svg(fig, "solved by category")


@dataclass(frozen=True)
class IntervalPoint:
    """One entry's solved fraction with its 95% interval."""

    name: str
    solved: float
    low: float
    high: float


def interval_chart(points: Sequence[IntervalPoint]) -> str:
    """Solved fraction with 95% Wilson intervals, one row per entry (best first)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, max(1.6, 0.35 * len(points) + 0.8)))
    ys = list(range(len(points)))
    xs = [100 * p.solved for p in points]
    err = [[100 * (p.solved - p.low) for p in points], [100 * (p.high - p.solved) for p in points]]
    ax.errorbar(xs, ys, xerr=err, fmt="o", capsize=3)
    ax.set_yticks(ys, [p.name for p in points])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("problems solved (%), 95% interval")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, "solved with 95% intervals")


def cost_scatter(points: Sequence[tuple[str, float, int]], x_label: str) -> str:
    """Solved count against what it cost, one labelled point per entry."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    for name, cost, solved in points:
        ax.scatter([cost], [solved])
        ax.annotate(name, (cost, solved), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("problems solved")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    return _svg(fig, "solved versus cost")
