"""A board's entries are its entry folders: what an interrupted add leaves beside them is not one."""

from __future__ import annotations

import shutil
from pathlib import Path

from provebench.boards.board import Board

COMMITTED = Path(__file__).resolve().parents[2] / "leaderboards" / "hol-light-core"


def test_an_interrupted_add_s_folders_are_neither_entries_nor_errors(tmp_path: Path) -> None:
    board = tmp_path / "board"
    shutil.copytree(COMMITTED, board)
    (real,) = Board(board).entries()
    entries = board / "entries"
    # The swap's leftovers: a whole copy (once a duplicate "ghost" entry) and a torn one (once an error).
    shutil.copytree(entries / real.id, entries / f".{real.id}.old")
    (entries / ".next.tmp").mkdir()
    (entries / ".next.tmp" / "entry.json").write_text('{"id": "nex')
    assert [e.id for e in Board(board).entries()] == [real.id]
