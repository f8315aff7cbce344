"""Run -> submit -> leaderboard add -> render, with every verdict from real HOL Light in a container,
and the rendered board and run report opened in headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.boards.board import Board, EntryRefused
from provebench.boards.pages import render_board, render_run_report
from provebench.core.errors import UserError
from provebench.core.model import Problem, Status
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.components import missing_component

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Trip:
    """A real run of the baseline prover, packed, added to a new board and rendered (the pages' own state)."""

    root: Path
    rundir: RunDir
    packed: Path
    board: Path
    summary: Any
    entry: Any
    settings: Settings


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory, settings: Settings, shared_verifier_factory: Factory) -> Trip:
    root = tmp_path_factory.mktemp("trip")
    settings = settings.model_copy(update={"cache_dir": root / "cache"})
    config = build_config({"suite": "hol-light-core", "n": 1, "timeout_s": 5}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(root / "run", plan.suite.name, prover.name)
    summary = execute(plan, rundir, prover, settings, RunHooks(), shared_verifier_factory)
    packed = root / "entry.tar.gz"
    bundle.pack(rundir, packed, bundle.Submitter(name="Baseline", contact="ci@example.org", open_data="full"))
    board = root / "board"
    entry = add_entry(packed, board, settings, make_verifier=shared_verifier_factory)
    html, md = render_board(Board(board))
    (board / "index.html").write_text(html)
    (board / "README.md").write_text(md)
    (rundir.path / "report.html").write_text(render_run_report(rundir))
    return Trip(root, rundir, packed, board, summary, entry, settings)


def test_round_trip_with_real_checks(trip: Trip, shared_verifier_factory: Factory) -> None:
    summary, packed, settings = trip.summary, trip.packed, trip.settings
    assert summary.complete and 0 < summary.solved < 50
    read = bundle.read_bundle(packed)
    assert read.manifest.checkers[0].digest.startswith("sha256:")
    assert read.manifest.checkers[0].version.startswith("1:3.1.0+git20260619")

    # A forged claim: an attempt that really failed, relabelled PASS, with the hashes made to match.
    members = {}
    with tarfile.open(packed) as tar:
        for m in tar:
            members[m.name] = tar.extractfile(m).read()  # type: ignore[union-attr]
    rows = [json.loads(line) for line in members[bundle.ATTEMPTS_MEMBER].splitlines()]
    victim = next(r for r in rows if r["verdict"]["status"] == "FAIL")
    victim["verdict"].update(status="PASS", reason="proved")
    members[bundle.ATTEMPTS_MEMBER] = "".join(json.dumps(r) + "\n" for r in rows).encode()
    manifest = json.loads(members[bundle.MANIFEST_MEMBER])
    manifest["attempts"]["sha256"] = bundle.sha256_of(members[bundle.ATTEMPTS_MEMBER])
    members[bundle.MANIFEST_MEMBER] = json.dumps(manifest).encode()
    forged = trip.root / "forged.tar.gz"
    bundle.write_tar(forged, members)

    other = trip.root / "other-board"
    with pytest.raises(EntryRefused) as exc:
        add_entry(forged, other, settings, make_verifier=shared_verifier_factory, sample_fraction=0.0)
    assert [line.split(":")[0] for line in exc.value.report] == [f"{victim['problem']} sample 0 round 0"]
    assert "claimed PASS, got FAIL" in exc.value.report[0]
    assert not other.exists() or not any(other.rglob("*.json"))

    claimed = sum(r.verdict.status is Status.PASS for r in read.attempts)
    r = trip.entry.reverification
    assert r.claimed_pass == claimed and r.reproduced == r.checked
    assert r.others_sampled == round(0.1 * (len(read.attempts) - claimed))
    assert trip.entry.stats.solved == summary.solved and trip.entry.stats.pass_at_k == summary.pass_at_k
    with pytest.raises(UserError, match="already on the board"):
        add_entry(packed, trip.board, settings, make_verifier=shared_verifier_factory)
    md = (trip.board / "README.md").read_text()
    assert f"| 1 | Baseline | baseline | {summary.solved}/50 |" in md


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        missing_component("chromium", "Debian's chromium is not installed (make test installs it)")
    try:
        import playwright.sync_api as playwright
    except ImportError:
        missing_component("playwright", "a dev dependency (.[dev])")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield b
        b.close()


def test_board_opens_in_chromium(trip: Trip, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto((trip.board / "index.html").as_uri())
    page.screenshot(path=str(trip.root / "board.png"), full_page=True)
    for chart in ("#chart-intervals", "#chart-categories", "#chart-cost", "#chart-pass-at-k"):
        box = page.locator(f"{chart} svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, chart
    assert page.locator("#entries tbody tr").count() == 1
    assert page.locator("#problems tbody tr").count() == 50
    assert (trip.root / "board.png").stat().st_size > 10_000


def test_report_opens_filters_and_shows_the_proof_of_a_clicked_row(trip: Trip, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto((trip.rundir.path / "report.html").as_uri())
    assert page.locator("#chart-pass-at-k svg").is_visible() and page.locator("#chart-categories svg").is_visible()
    rows = page.locator("#attempts tr.row")
    assert rows.count() == 50
    rows.first.click()
    proof = page.locator("#attempts tr.detail pre.proof")
    assert proof.is_visible() and proof.inner_text().strip() == "ARITH_TAC"
    assert page.locator("#attempts tr.detail pre.messages").count() == 1
    page.screenshot(path=str(trip.root / "report.png"), full_page=True)
    page.select_option("#filter-status", "PASS")
    visible = page.locator("#attempts tr.row:visible")
    assert 0 < visible.count() < 50
    assert set(visible.locator("td.st").all_inner_texts()) == {"PASS"}
    page.fill("#filter-text", "no-such-problem")
    assert page.locator("#attempts tr.row:visible").count() == 0


def test_view_serves_the_report_on_localhost(trip: Trip, browser: object) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "provebench.cli.main", "view", str(trip.rundir.path), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "serving the report" in line, line
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(url)
        assert page.locator("#attempts tr.row").count() == 50
        assert page.goto(url + "attempts.jsonl").status == 404  # only the report is served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
