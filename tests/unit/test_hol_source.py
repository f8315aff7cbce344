"""Reading HOL Light proof files: top-level theorems, includes, admitted copies, inlining."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.systems.hol_light.source import inline, scan_source

FILE = """(* needs "commented/out.ml";; *)
needs "common/base.ml";;
needs "Library/words.ml";;

let ADD_LEMMA = prove
 (`!n. n + 0 = n`,
  INDUCT_TAC THEN
  ASM_REWRITE_TAC[ADD_CLAUSES]);;

let SLOW = time prove(`T`, REWRITE_TAC[]);;

let helper = 3;;
let A = REFL `x:num` and B = prove(`!m. m = m`, GEN_TAC THEN REFL_TAC);;
let RUNTIME = prove(mk_eq(`1`, `1`), REFL_TAC);;
let NOT_PLAIN = prove(`T`, ALL_TAC) |> GEN_ALL;;
let s = "let FAKE = prove(`F`, CHEAT_TAC);;";;
"""


def test_scan_finds_top_level_theorems_and_includes() -> None:
    source = scan_source(FILE, "f.ml")
    assert [(i.command, i.path, i.line) for i in source.includes] == [
        ("needs", "common/base.ml", 2),
        ("needs", "Library/words.ml", 3),
    ]
    found = {th.name: th for th in source.theorems}
    assert set(found) == {"ADD_LEMMA", "SLOW", "B", "RUNTIME"}
    assert found["ADD_LEMMA"].line == 5 and found["ADD_LEMMA"].goal == "`!n. n + 0 = n`"
    assert found["ADD_LEMMA"].tactic(FILE) == "INDUCT_TAC THEN\n  ASM_REWRITE_TAC[ADD_CLAUSES]"
    assert found["SLOW"].tactic(FILE) == "REWRITE_TAC[]"
    assert found["B"].line == 13 and found["B"].tactic(FILE) == "GEN_TAC THEN REFL_TAC"
    assert found["RUNTIME"].goal.startswith("mk_eq")


def test_the_admitted_copy_keeps_every_line() -> None:
    admitted = scan_source(FILE, "f.ml").admitted()
    assert admitted.count("\n") == FILE.count("\n")
    lines = admitted.split("\n")
    assert lines[4:8] == ["let ADD_LEMMA = prove", " (`!n. n + 0 = n`,", "  CHEAT_TAC", ");;"]
    assert "ASM_REWRITE_TAC" not in admitted and "GEN_TAC THEN REFL_TAC" not in admitted
    assert 'let s = "let FAKE = prove(`F`, CHEAT_TAC);;";;' in admitted  # strings are not code


def test_inline_expands_local_includes_once_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "arm").mkdir()
    (tmp_path / "common" / "base.ml").write_text('needs "common/util.ml";;\nlet BASE = prove(`T`, REWRITE_TAC[]);;\n')
    (tmp_path / "common" / "util.ml").write_text("let UTIL = prove(`T`, REWRITE_TAC[]);;\n")
    (tmp_path / "arm" / "f.ml").write_text(FILE + 'needs "common/util.ml";;\nloadt "common/util.ml";;\n')
    stream = inline(tmp_path, "arm/f.ml", admitted=True)
    text = "\n".join(stream.lines)
    assert text.count("let UTIL") == 2  # needs: once; loadt: again
    assert text.count("let BASE") == 1 and 'needs "Library/words.ml";;' in text
    assert 'needs "common/base.ml"' not in text
    base_line = next(i for i, line in enumerate(stream.lines, 1) if line.startswith("let BASE"))
    assert stream.origins[base_line - 1] == ("common/base.ml", 2)
    assert "ASM_REWRITE_TAC" not in text  # admitted
    with pytest.raises(UserError, match="template not found"):
        inline(tmp_path, "arm/none.ml")


def test_a_file_that_is_not_ocaml_is_a_one_line_error() -> None:
    with pytest.raises(UserError, match="bad.ml: cannot read it as OCaml"):
        scan_source('let x = "unterminated;;\n', "bad.ml")
