"""The boards committed under leaderboards/ are pinned to main's checkers, agree with their entries, and are
rendered from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provebench import containers
from provebench.boards.board import Board
from provebench.boards.pages import render_board
from provebench.core.model import Status
from provebench.runs.stats import ProblemRef, summarize
from provebench.suites.load import find_suite

BOARDS = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "leaderboards").glob("*/board.yaml"))


def test_there_is_a_board_for_the_bundled_hol_light_suite() -> None:
    assert "hol-light-core" in {b.name for b in BOARDS}


@pytest.mark.parametrize("path", BOARDS, ids=[b.name for b in BOARDS])
def test_a_committed_board(path: Path, tmp_path: Path) -> None:
    board = Board(path)
    config = board.config()
    assert config is not None
    suite = find_suite(config.suite.name, tmp_path)
    assert suite.content_hash == config.suite.content_hash, "the suite changed: its board needs new entries"
    # The pins are what main's recipes build now: a change to a checker without a republish fails here.
    for pin in config.checkers:
        name, _, tail = pin.recipe.partition(":")
        revision = tail.partition("-")[2] or None  # the outside source's commit, for images built from one
        assert pin.recipe == containers.recipe_id(containers.recipe(name), revision), "republish the board"
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", pin.packages) and re.fullmatch(r"sha256:[0-9a-f]{64}", pin.digest)
        assert pin.version and pin.system
    entries = board.ranked()
    assert entries and any(e.prover.get("name") == "baseline" for e in entries)
    for entry in entries:
        assert entry.suite == config.suite
        assert all(any(c.same_checker(p) for p in config.checkers) for c in entry.verified_on)
        published = board.published_attempts(entry)
        n = entry.sampling.samples_per_problem
        assert {(r.problem, r.sample) for r in published if r.round == 0} == {
            (p.id, s) for p in suite.problems for s in range(n)
        }
        # The stats are the board's own computation over the attempts, not a submitter's claim.
        summary = summarize([ProblemRef(p.id, p.category) for p in suite.problems], published, n, entry.sampling.ks)
        assert (summary.solved, summary.pass_at_k, summary.by_category) == (
            entry.stats.solved,
            entry.stats.pass_at_k,
            entry.stats.by_category,
        )
        assert entry.reverification.claimed_pass == sum(r.verdict.status is Status.PASS for r in published)
        assert entry.reverification.reproduced == entry.reverification.checked
    html, md = render_board(board, tmp_path)
    assert (path / "README.md").read_text(encoding="utf-8") == md, "README.md is stale: leaderboard render"
    assert (path / "index.html").read_text(encoding="utf-8") == html, "index.html is stale: leaderboard render"
