"""Importing CombiBench: the dataset JSONL and a checkout, kinds, answers, categories, one-line errors.

The fixtures are small Lean files written here in CombiBench's layout; the
test on the real dataset runs where the shared data sits beside the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.model import Kind, System
from provebench.suites.combibench import import_combibench
from provebench.suites.load import load_suite
from provebench.systems.lean.fill_in import FillInAnswer

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "combibench" / "combibench.jsonl"

THEOREM = """import Mathlib

open Finset

/-- The number of subsets of a set of size n is 2^n. -/
theorem count_subsets (n : ℕ) : (range n).powerset.card = 2 ^ n := by sorry
"""
FILL_IN = """import Mathlib

abbrev pick_two_solution : ℕ := sorry

/-- How many ways to choose 2 of 5? -/
theorem pick_two : Nat.choose 5 2 = pick_two_solution := by sorry
"""
FILL_IN_SOLVED = FILL_IN.replace("abbrev pick_two_solution : ℕ := sorry\n\n", "").replace(
    "pick_two_solution", "((10) : ℕ)"
)


def _record(name: str, statement: str, with_solution: str, answer: str | None, tag: str) -> dict[str, object]:
    return {
        "theorem_name": name,
        "formal_statement": statement,
        "formal_statement_with_solution": with_solution,
        "natural_language": f"informal {name}",
        "answer": answer,
        "source": "",
        "tag": tag,
        "comment": "",
    }


def _jsonl(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    path = tmp_path / "data" / "combibench.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (path.parent / "PROVENANCE.md").write_text("CombiBench commit 0123456789abcdef, leanprover/lean4:v4.24.0\n")
    return path


def _checkout(tmp_path: Path) -> Path:
    folder = tmp_path / "CombiBench" / "lean" / "CombiBench"
    (folder / "with_solution").mkdir(parents=True)
    (folder / "count_subsets.lean").write_text(THEOREM, encoding="utf-8")
    (folder / "pick_two.lean").write_text(FILL_IN, encoding="utf-8")
    (folder / "with_solution" / "pick_two_sol.lean").write_text(FILL_IN_SOLVED, encoding="utf-8")
    (folder / "metadata.csv").write_text(
        "theorem_name,natural_language,answer,source,tag,formal_statement_existence,comment\n"
        'count_subsets,"How many subsets, in all?",,,brualdi,,\n'
        "pick_two,Choose two of five.,10,https://example.org,hackmath,,\n",
        encoding="utf-8",
    )
    (folder.parent / "lean-toolchain").write_text("leanprover/lean4:v4.24.0\n")
    manifest = {"packages": [{"name": "mathlib", "rev": "f" * 40, "inputRev": "v4.24.0"}]}
    (folder.parent / "lake-manifest.json").write_text(json.dumps(manifest))
    return tmp_path / "CombiBench"


def _check_small_suite(out: Path) -> None:
    suite = load_suite(out)
    assert suite.manifest.system is System.LEAN4 and suite.manifest.context == "import Mathlib"
    assert suite.manifest.checker_image == "lean4-mathlib"
    assert suite.manifest.metadata["lean_toolchain"] == "leanprover/lean4:v4.24.0"
    theorem, fill_in = suite.problem("count_subsets"), suite.problem("pick_two")
    assert theorem.kind is Kind.THEOREM and theorem.extension(FillInAnswer) is None and theorem.category == "brualdi"
    assert not theorem.statement.startswith("import") and "open Finset" in theorem.statement
    answer = fill_in.extension(FillInAnswer)
    assert fill_in.kind is Kind.FILL_IN and answer is not None and answer.answer == "10"
    assert fill_in.category == "hackmath"
    assert answer.answer_statement is not None and "((10) : ℕ)" in answer.answer_statement
    assert "import" not in answer.answer_statement


def test_the_dataset_jsonl(tmp_path: Path) -> None:
    src = _jsonl(
        tmp_path,
        [
            _record("count_subsets", THEOREM, THEOREM, None, "brualdi"),
            _record("pick_two", FILL_IN, FILL_IN_SOLVED, "10", "hackmath"),
        ],
    )
    report = import_combibench(src, tmp_path / "suite")
    assert report.problems == 2 and report.by_kind == {"theorem": 1, "fill-in": 1}
    assert report.revision == "0123456789abcdef"
    _check_small_suite(tmp_path / "suite")
    assert load_suite(tmp_path / "suite").problem("count_subsets").informal == "informal count_subsets"


def test_a_checkout(tmp_path: Path) -> None:
    report = import_combibench(_checkout(tmp_path), tmp_path / "suite")
    assert report.by_category == {"brualdi": 1, "hackmath": 1}
    _check_small_suite(tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    assert suite.manifest.metadata["mathlib_rev"] == "f" * 40
    assert suite.problem("count_subsets").informal == "How many subsets, in all?"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"theorem_name": "x"}], "needs a string field 'formal_statement'"),
        ([_record("x", THEOREM, THEOREM, None, "t")], r"no `theorem x`"),
        ([_record("count_subsets", THEOREM.replace("import Mathlib", "import Lean"), THEOREM, None, "t")], "imports"),
        ([_record("pick_two", FILL_IN.replace("abbrev pick_two_solution", "abbrev other"), FILL_IN, "1", "t")], "fill"),
        ([_record("count_subsets", THEOREM.replace("sorry", "rfl"), THEOREM, None, "t")], "no `sorry`"),
        ([_record("count_subsets", THEOREM, THEOREM, None, "t")] * 2, "appears twice"),
        ([_record("bad name", THEOREM, THEOREM, None, "t")], "bad theorem_name"),
    ],
)
def test_broken_records_are_one_line_errors(tmp_path: Path, records: list[dict[str, object]], message: str) -> None:
    with pytest.raises(UserError, match=message) as err:
        import_combibench(_jsonl(tmp_path, records), tmp_path / "suite")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "suite").exists()  # nothing is written from a broken source


def test_broken_files_are_one_line_errors(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"theorem_name": "x"\n')
    with pytest.raises(UserError, match=r"bad\.jsonl: line 1: invalid JSON"):
        import_combibench(bad_json, tmp_path / "out")
    checkout = _checkout(tmp_path)
    (checkout / "lean" / "CombiBench" / "with_solution" / "pick_two_sol.lean").unlink()
    with pytest.raises(UserError, match="has an answer but no with_solution/pick_two_sol.lean"):
        import_combibench(checkout, tmp_path / "out")
    (checkout / "lean" / "CombiBench" / "count_subsets.lean").unlink()
    with pytest.raises(UserError, match="count_subsets.lean: Lean file not found"):
        import_combibench(checkout, tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="not a CombiBench checkout"):
        import_combibench(empty, tmp_path / "o")
    with pytest.raises(UserError, match="no such file or folder"):
        import_combibench(tmp_path / "missing.jsonl", tmp_path / "o")


def test_a_deeply_nested_lake_manifest_is_a_one_line_error_and_nothing_is_written(tmp_path: Path) -> None:
    """json.loads recursed until RecursionError (a traceback) after problems.jsonl was written: half a suite."""
    checkout = _checkout(tmp_path)
    (checkout / "lean" / "lake-manifest.json").write_text('{"packages": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(UserError, match=r"lake-manifest.json: nested deeper than 64 levels") as err:
        import_combibench(checkout, tmp_path / "suite")
    assert "\n" not in str(err.value) and not (tmp_path / "suite").exists()
    (checkout / "lean" / "lake-manifest.json").write_text("[]")
    with pytest.raises(UserError, match=r"lake-manifest.json: not a lake manifest"):
        import_combibench(checkout, tmp_path / "suite")
    assert not (tmp_path / "suite").exists()


def test_cli_import_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "suite"
    assert main(["suites", "import", "combibench", "--from", str(_checkout(tmp_path)), "--out", str(out)]) == 0
    assert "imported 2 problems (1 fill-in, 1 theorem)" in capsys.readouterr().out
    assert main(["suites", "show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["problems"] == 2 and shown["by_kind"] == {"fill-in": 1, "theorem": 1}
    assert shown["by_category"] == {"brualdi": 1, "hackmath": 1} and shown["with_answer"] == 1
    assert (
        main(["suites", "import", "combibench", "--from", str(_checkout(tmp_path / "again")), "--out", str(out)]) == 2
    )
    assert "already exists" in capsys.readouterr().err


@pytest.mark.skipif(not SHARED.is_file(), reason=f"the shared CombiBench data is not beside the project ({SHARED})")
def test_the_shared_combibench_data(tmp_path: Path) -> None:
    report = import_combibench(SHARED, tmp_path / "suite")
    assert report.problems == 100 and report.by_kind == {"theorem": 55, "fill-in": 45}
    suite = load_suite(tmp_path / "suite")
    assert suite.manifest.metadata["combibench_commit"].startswith("84063de0")
    assert suite.manifest.metadata["mathlib_tag"] == "v4.24.0"
    assert suite.manifest.metadata["lean_toolchain"] == "leanprover/lean4:v4.24.0"
    fill_ins = [p for p in suite.problems if p.kind is Kind.FILL_IN]
    answers = {p.id: p.extension(FillInAnswer) for p in fill_ins}
    assert all(a and a.answer and a.answer_statement for a in answers.values())
    assert all("_solution" in p.statement for p in fill_ins)
    assert {p.category for p in suite.problems} == {"brualdi", "hackmath", "imo", "math_competitions"}
    hackmath_4 = suite.problem("hackmath_4")
    hackmath_4_answer = answers["hackmath_4"]
    assert hackmath_4.kind is Kind.FILL_IN and hackmath_4_answer is not None and hackmath_4_answer.answer == "13"
    assert all(not p.statement.lstrip().startswith("import") for p in suite.problems)
    # Answers with binders, functions or sets get their own trusted comparison; closed numbers keep the default.
    templated = {pid: dict(a.answer_checks) for pid, a in answers.items() if a and a.answer_checks}
    assert len(templated) == 16 and not hackmath_4_answer.answer_checks
    assert templated["brualdi_ch2_36"] == {
        "brualdi_ch2_36_solution": "example {k} : ($solution (k := k)) $op (($answer : (Fin k → ℕ) → ℕ)) := by $tactics"
    }
    assert templated["imo_2015_p1"] == {
        "imo_2015_p1_solution": "example : ($solution) $op (($answer : Set ℕ)) := by $tactics"
    }


def test_a_stray_quote_in_the_metadata_is_an_error_naming_its_line(tmp_path: Path) -> None:
    # Read leniently, the open quote would make the rest of the file one field and drop pick_two silently.
    checkout = _checkout(tmp_path)
    meta = checkout / "lean" / "CombiBench" / "metadata.csv"
    lines = meta.read_text().splitlines()
    meta.write_text("\n".join([lines[0], 'count_subsets,"How many subsets,,,brualdi,,', lines[2]]) + "\n")
    with pytest.raises(UserError, match=r"metadata\.csv: line 2: a quoted field .* is never closed"):
        import_combibench(checkout, tmp_path / "out")
