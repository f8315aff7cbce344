"""`leaderboard add`: an entry is written and ranked only when its claims reproduce on the board's pins."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from provebench.boards import bundle
from provebench.boards.add import AddHooks, add_entry
from provebench.boards.board import Board, BoardConfig, EntryRefused
from provebench.boards.bundle import read_bundle
from provebench.boards.pages import render_board
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Status, Verdict
from provebench.core.settings import Settings
from provebench.runs.run import RunDir
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble
from tests.submission_support import (
    Factory,
    arith_passes,
    board_is_empty,
    edit_attempts,
    edit_manifest,
    renamed,
    rewrite,
    scripted_verifiers,
)


def test_add_reverifies_writes_the_entry_and_renders(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    checked: list[tuple[str, str]] = []

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        checked.append((problem.id, proof))
        return arith_passes(problem, proof, call)

    entry = add_entry(packed, board, settings, make_verifier=scripted_verifiers(script), sample_fraction=0.5)
    b = read_bundle(packed)
    claimed = [r for r in b.attempts if r.verdict.status is Status.PASS]
    others = len(b.attempts) - len(claimed)
    # Every claimed PASS was checked again, and half of the others.
    assert len(checked) == len(claimed) + round(others * 0.5)
    assert {(r.problem, r.prover.proof) for r in claimed} <= set(checked)
    assert entry.reverification.checked == entry.reverification.reproduced == len(checked)
    assert entry.reverification.claimed_pass == len(claimed) and entry.reverification.others == others
    assert entry.reverification.others_sampled == len(checked) - len(claimed)
    assert entry.reverification.on == [DOUBLE_CHECKER] and datetime.fromisoformat(entry.reverification.at)
    assert entry.stats.solved == len({r.problem for r in claimed}) and entry.stats.problems == 50
    assert entry.stats.by_category["arithmetic"].solved == entry.stats.solved
    config = Board(board).config()
    assert config is not None and config.checkers == [DOUBLE_CHECKER] and config.sample_fraction == 0.5
    published = Board(board).published_attempts(entry)
    assert len(published) == 100 and all(r.prover.proof for r in published)

    with pytest.raises(UserError, match="already on the board as entry 'baseline-test'"):
        add_entry(packed, board, settings, make_verifier=scripted_verifiers())

    html, md = render_board(Board(board))
    for anchor in ('id="chart-intervals"', 'id="chart-categories"', 'id="chart-cost"', 'id="chart-pass-at-k"'):
        assert anchor in html
    assert html.count("<svg") == 4 and not re.search(r"(src|href)=[\"']?https?:|url\(https?:", html)  # offline
    assert "Baseline (test)" in html and "ci@example.org" not in html  # the contact is kept, not published
    assert f"| 1 | Baseline (test) | baseline | {entry.stats.solved}/50 |" in md

    # A weaker second entry (its passes on add_* problems withheld) ranks below the first.
    def weaker(members: dict[str, bytes]) -> None:
        edit_manifest(lambda m: m["submitter"].update(name="Weaker"))(members)
        edit_attempts(
            lambda rows: [
                r["verdict"].update(status="FAIL", reason="tactic-failed")
                for r in rows
                if str(r["problem"]).startswith("add_")
            ]
        )(members)

    second = add_entry(
        rewrite(packed, tmp_path / "w.tar.gz", weaker),
        board,
        settings,
        make_verifier=scripted_verifiers(),
        sample_fraction=0.0,
    )
    assert 0 < second.stats.solved < entry.stats.solved
    html, md = render_board(Board(board))
    assert md.index("| 1 | Baseline (test) |") < md.index("| 2 | Weaker |")
    assert html.count("<th>Weaker</th>") == 1 and html.count('class="solved"') == sum(
        1 for e in (entry, second) for c in e.stats.by_problem.values() if c.c
    )


def test_markdown_cells_escape_what_a_submitter_names() -> None:
    from provebench.boards.pages import _md_cell

    assert _md_cell("a|b\n<img src=x>") == "a\\|b &lt;img src=x>"


def test_a_verdict_that_does_not_reproduce_refuses_the_entry(packed: Path, tmp_path: Path, settings: Settings) -> None:
    # The submitter turned a failed attempt into a claimed PASS and fixed the hash to match.
    def forge(rows: list[dict[str, object]]) -> None:
        row = next(r for r in rows if r["verdict"]["status"] == "FAIL" and r["problem"] == "peirce")
        row["verdict"].update(status="PASS", reason="proved")

    forged = rewrite(packed, tmp_path / "forged.tar.gz", edit_attempts(forge))
    board = tmp_path / "board"
    with pytest.raises(EntryRefused) as exc:
        add_entry(forged, board, settings, make_verifier=scripted_verifiers(), sample_fraction=0.0)
    assert "1 of" in str(exc.value) and "do not reproduce" in str(exc.value)
    assert len(exc.value.report) == 1 and exc.value.report[0].startswith("peirce sample ")
    assert "claimed PASS, got FAIL (tactic-failed" in exc.value.report[0]
    assert board_is_empty(board)


def test_suite_hash_and_checker_identity_must_match_the_board(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    wrong_hash = rewrite(
        packed,
        tmp_path / "h.tar.gz",
        edit_manifest(lambda m: m["suite"].update(content_hash="sha256:" + "0" * 64)),
    )
    hashes = (
        r"suite hash sha256:0{12}\.\.\. does not match the board.s sha256:[0-9a-f]{12}\.\.\. \(the run used another"
    )
    with pytest.raises(UserError, match=hashes):
        add_entry(wrong_hash, board, settings, make_verifier=scripted_verifiers())
    assert board_is_empty(board)

    add_entry(packed, board, settings, make_verifier=scripted_verifiers(), sample_fraction=0.0)
    second = rewrite(
        packed,
        tmp_path / "s.tar.gz",
        edit_manifest(lambda m: m["submitter"].update(name="Second")),
    )

    def checked_by(checker: CheckerInfo) -> Factory:
        class Other(ScriptedVerifierDouble):
            pass

        Other.checker = checker
        return lambda _s, _p: Other(arith_passes)

    # Another build of the same checker (only the image digest differs) is the board's checker.
    rebuilt = DOUBLE_CHECKER.model_copy(update={"digest": "sha256:rebuilt", "image": "double:elsewhere"})
    add_entry(second, board, settings, make_verifier=checked_by(rebuilt), sample_fraction=0.0)
    # Each part of the identity that differs is named in one line.
    for change, named in (
        ({"recipe": "double:1"}, "recipe (double:1 here, double:0 pinned)"),
        ({"packages": "sha256:1"}, "package list (sha256:1 here, sha256:0 pinned)"),
        ({"version": "2"}, "proof-system version (2 here, double pinned)"),
    ):
        third = rewrite(
            packed,
            tmp_path / "t.tar.gz",
            edit_manifest(lambda m: m["submitter"].update(name="Third")),
        )
        with pytest.raises(UserError) as exc:
            add_entry(third, board, settings, make_verifier=checked_by(DOUBLE_CHECKER.model_copy(update=change)))
        message = str(exc.value)
        assert message.startswith("this machine's double checker differs from the board's pin in its " + named)
        assert "\n" not in message
        parts = ("recipe (", "package list (", "proof-system version (")
        assert [part for part in parts if part in message] == [part for part in parts if named.startswith(part)]
        hint = (
            "; the same recipe built from other Debian packages: build it from the snapshot the board was pinned with"
            if "packages" in change
            else f"(provebench leaderboard republish --board {board}) or check with the pinned recipe"
        )
        assert message.endswith(hint)

    def relabel(members: dict[str, bytes]) -> None:
        other = DOUBLE_CHECKER.model_copy(update={"recipe": "double:1"})
        edit_manifest(lambda m: m.update(checkers=[other.model_dump(mode="json")]))(members)
        edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)

    in_the_run = (
        r"the run's double checker differs from the board's pin in its recipe \(double:1 in the run, double:0 pinned\)"
    )
    with pytest.raises(UserError, match=in_the_run + "; re-run on the board's checker$"):
        add_entry(rewrite(packed, tmp_path / "d.tar.gz", relabel), board, settings, make_verifier=scripted_verifiers())

    def relabel_one_attempt(members: dict[str, bytes]) -> None:
        edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(packages="sha256:1", version="2"))(members)
        edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)

    both = (
        r"proof-system version \(2 in the run, double pinned\); package list \(sha256:1 in the run, sha256:0 pinned\)$"
    )
    with pytest.raises(UserError, match=r"attempt .* was checked by another checker: " + both):
        add_entry(
            rewrite(packed, tmp_path / "e.tar.gz", relabel_one_attempt),
            board,
            settings,
            make_verifier=scripted_verifiers(),
        )

    def another_recipe(members: dict[str, bytes]) -> None:
        edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(recipe="double:1"))(members)
        edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)

    with pytest.raises(UserError, match=r"another checker: recipe \(double:1 in the run, double:0 pinned\)$"):
        add_entry(
            rewrite(packed, tmp_path / "r.tar.gz", another_recipe), board, settings, make_verifier=scripted_verifiers()
        )
    assert len(Board(board).entries()) == 2


def test_an_attempt_of_another_build_is_compared_with_the_pin_of_its_own_recipe(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    # A board pinning two checkers of one proof system: the refusal names the pin of the attempt's recipe.
    other = DOUBLE_CHECKER.model_copy(update={"recipe": "other:0", "image": "other", "packages": "sha256:9"})
    suite = read_bundle(packed).manifest.suite
    (tmp_path / "board").mkdir()
    board = Board(tmp_path / "board")
    board.write_config(BoardConfig(suite=suite, checkers=[other, DOUBLE_CHECKER], sample_fraction=0.0))
    rebuilt = rewrite(
        packed,
        tmp_path / "r.tar.gz",
        edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(recipe="double:1")),
    )
    with pytest.raises(UserError) as exc:
        add_entry(rebuilt, board.path, settings, make_verifier=scripted_verifiers())
    assert str(exc.value).endswith("was checked by another checker: recipe (double:1 in the run, double:0 pinned)")


def test_an_entry_covers_exactly_the_board_s_suite_and_its_revision(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    board = tmp_path / "board"
    add_entry(packed, board, settings, make_verifier=scripted_verifiers(), sample_fraction=0.0)

    def without_peirce(rows: list[dict[str, object]]) -> None:
        rows[:] = [r for r in rows if r["problem"] != "peirce"]

    def drop_peirce(members: dict[str, bytes]) -> None:
        edit_manifest(lambda m: m["problems"].remove("peirce"))(members)
        edit_attempts(without_peirce)(members)

    def add_extra(members: dict[str, bytes]) -> None:
        edit_manifest(lambda m: m["problems"].append("zz_extra"))(members)
        edit_attempts(lambda rows: rows.extend(dict(rows[0], problem="zz_extra", sample=s) for s in (0, 1)))(members)

    def other_suite(members: dict[str, bytes]) -> None:
        edit_manifest(lambda m: m["suite"].update(name="other-suite"))(members)

    for change, said in (
        (drop_peirce, "the run covers 49 of the 50 problems of hol-light-core (first missing: peirce); "),
        (add_extra, "problem 'zz_extra' is not in suite hol-light-core"),
        (other_suite, "a run of suite 'other-suite'; this board is for 'hol-light-core'"),
    ):
        bad = rewrite(renamed(packed, tmp_path / "r.tar.gz", "Second"), tmp_path / "bad.tar.gz", change)
        with pytest.raises(UserError) as exc:
            add_entry(bad, board, settings, make_verifier=scripted_verifiers())
        assert str(exc.value).startswith(f"{bad}: {said}"), str(exc.value)
    # The board pins a suite revision this machine does not have: nothing is re-verified on another one.
    config = Board(board).config()
    assert config is not None
    local_hash = config.suite.content_hash
    pinned = config.model_copy(update={"suite": config.suite.model_copy(update={"content_hash": "sha256:" + "1" * 64})})
    Board(board).write_config(pinned)
    with pytest.raises(UserError) as exc:
        add_entry(renamed(packed, tmp_path / "s.tar.gz", "Second"), board, settings, make_verifier=scripted_verifiers())
    assert str(exc.value) == (
        f"the local suite hol-light-core ({local_hash[:19]}...) is not the board's revision "
        f"(sha256:111111111111...); re-verification needs the board's"
    )
    assert len(Board(board).entries()) == 1


def test_an_entry_s_name_is_its_own_and_a_stale_one_is_replaced_whole(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    board = tmp_path / "board"
    first = add_entry(packed, board, settings, make_verifier=scripted_verifiers(), sample_fraction=0.5)
    again = renamed(packed, tmp_path / "again.tar.gz", "Baseline (test)", contact="other@example.org")
    with pytest.raises(UserError) as exc:
        add_entry(again, board, settings, make_verifier=scripted_verifiers())
    assert str(exc.value) == f"the board already has an entry {first.id!r}; submit under another --name"
    # An interrupted add left its temporary folder behind: the next add of that name is not blocked by it.
    entries = board / "entries"
    (entries / ".second.tmp").mkdir()
    (entries / ".second.tmp" / "partial").write_text("torn")
    progress: list[tuple[int, int]] = []
    second = add_entry(
        renamed(packed, tmp_path / "s.tar.gz", "Second"),
        board,
        settings,
        AddHooks(checked=lambda done, total: progress.append((done, total))),
        make_verifier=scripted_verifiers(),
    )
    # Without a fraction of its own, the board's is used; the progress hook saw every check.
    assert second.reverification.sample_fraction == 0.5
    assert progress and progress[-1] == (second.reverification.checked, second.reverification.checked)
    # A stale entry (the board's checker changed and it did not reproduce) is replaced by its resubmission.
    entry_file = entries / first.id / "entry.json"
    stale = json.loads(entry_file.read_text())
    stale["stale"] = {"reason": "not-reproduced", "detail": "scripted", "since": "2026-01-01T00:00:00+00:00"}
    entry_file.write_text(json.dumps(stale))
    (entries / f".{first.id}.old").mkdir()  # and an earlier replacement was interrupted before its cleanup
    (entries / f".{first.id}.old" / "partial").write_text("torn")
    replaced = add_entry(again, board, settings, make_verifier=scripted_verifiers())
    assert replaced.stale is None and replaced.contact == "other@example.org"
    assert sorted(p.name for p in entries.iterdir()) == [first.id, "second"]


@pytest.mark.parametrize(("open_data", "proofs"), [("partial", "passing"), ("none", "none")])
def test_open_data_decides_what_the_board_publishes(
    run: RunDir, tmp_path: Path, settings: Settings, open_data: str, proofs: str
) -> None:
    out = tmp_path / "e.tar.gz"
    bundle.pack(run, out, bundle.Submitter(name="p", contact="c", open_data=open_data))  # type: ignore[arg-type]
    assert all(r.prover.raw_reply is None for r in read_bundle(out).attempts)  # raw replies leave only with full
    board = tmp_path / "board"
    entry = add_entry(out, board, settings, make_verifier=scripted_verifiers(), sample_fraction=0.0)
    published = Board(board).published_attempts(entry)
    assert len(published) == 100
    with_proof = {r.verdict.status for r in published if r.prover.proof}
    assert with_proof == ({Status.PASS} if proofs == "passing" else set())
