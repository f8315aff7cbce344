"""Reports, submissions and boards through the command line: `report --html`, `submit`, `leaderboard add`
(also through a checker service) and `render`, and their one-line errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from provebench.boards.add import add_entry
from provebench.boards.board import Board
from provebench.boards.pages import render_run_report
from provebench.cli.main import main
from provebench.core.settings import Settings
from provebench.runs.run import RunDir
from tests.doubles.verifier import ScriptedVerifierDouble
from tests.submission_support import (
    arith_passes,
    edit_attempts,
    edit_manifest,
    rewrite,
    scripted_verifiers,
)


def test_report_html_holds_charts_and_every_attempt(run: RunDir) -> None:
    html = render_run_report(run)
    assert 'id="chart-pass-at-k"' in html and 'id="chart-categories"' in html and html.count("<svg") == 2
    assert html.count('<tr class="row"') == 100
    data = html.split('id="attempt-data">', 1)[1].split("</script>", 1)[0]
    details = json.loads(data)
    assert len(details) == 100 and details[0]["proof"]
    assert "<script src" not in html and "<link" not in html  # self-contained


def test_cli_submit_add_render_and_errors(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "cli.tar.gz"
    argv = ["submit", str(run.path), "-o", str(out), "--name", "CLI", "--contact", "x@y", "--open-data", "full"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out and out.exists()

    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b garbage")
    assert main(["leaderboard", "add", str(tmp_path / "broken.tar.gz"), "--board", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a submission bundle" in err and "Traceback" not in err
    assert main(["leaderboard", "render", "--board", str(tmp_path / "nope")]) == 2
    assert "no such board folder" in capsys.readouterr().err
    assert main(["submit", str(tmp_path), "--name", "a", "--contact", "b", "--open-data", "none"]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["report", str(run.path), "--html", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")

    # add and render through the CLI, the checker being the double (and no image to build).
    from provebench.cli import board as cli_board
    from provebench.cli import images as cli_images

    built: list[set[str]] = []
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, names: built.append(names))
    monkeypatch.setattr(cli_board, "add_entry", functools.partial(add_entry, make_verifier=scripted_verifiers()))
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    board = tmp_path / "cli-board"
    assert main(["leaderboard", "add", str(out), "--board", str(board), "--sample", "0.2"]) == 0
    said = capsys.readouterr()
    assert "added 'cli' to" in said.out and "all reproduced" in said.out and built == [{"hol-light"}]
    assert main(["leaderboard", "render", "--board", str(board)]) == 0
    assert (board / "index.html").is_file() and "| CLI |" in (board / "README.md").read_text()

    forged = rewrite(
        out,
        tmp_path / "cli-forged.tar.gz",
        edit_attempts(
            lambda rows: next(r["verdict"] for r in rows if r["verdict"]["status"] == "FAIL").update(status="PASS")
        ),
    )
    forged = rewrite(forged, forged, edit_manifest(lambda m: m["submitter"].update(name="F")))
    assert main(["leaderboard", "add", str(forged), "--board", str(board)]) == 1
    err = capsys.readouterr().err
    assert "refused: 1 of" in err and "claimed PASS, got FAIL" in err and "Traceback" not in err
    assert [e.id for e in Board(board).entries()] == ["cli"]


def test_cli_add_through_a_service_reverifies_there(
    packed: Path,
    tmp_path: Path,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``leaderboard add --server``: every re-check is a request to the service (here checking with the double)."""
    from provebench.checking.engine import Engine
    from provebench.service.app import create_app
    from provebench.service.state import ServiceState
    from tests.service_support import served

    double = ScriptedVerifierDouble(arith_passes)
    state = ServiceState(engine=Engine(settings, lambda _s, _p: double))
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    with served(create_app(state)) as url:
        state.name = url
        code = main(["leaderboard", "add", str(packed), "--board", str(tmp_path / "b"), "--server", url])
    said = capsys.readouterr()
    assert code == 0, said.err
    assert "all reproduced" in said.out and f"checking through the provebench service at {url}" in said.err
    assert double.calls, "the service did the checking"
    (entry,) = Board(tmp_path / "b").entries()
    assert entry.reverification is not None
