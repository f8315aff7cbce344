"""Importing s2n-bignum-bench problems straight from an s2n-bignum checkout (a small one written here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.suites.load import load_suite
from provebench.suites.s2n_bignum import TIMEOUT_SCALE, categorize
from provebench.suites.s2n_query import BenchmarkQuery
from provebench.suites.s2n_source import import_source
from provebench.systems.hol_light.goal import computed_goal
from provebench.systems.hol_light.source import inline

FILES = {
    "common/overlap.ml": "let NONOVERLAPPING_LEMMA = prove\n (`nonoverlapping (a,0) (b,1)`,\n  SIMP_TAC[]);;\n",
    "arm/proofs/base.ml": 'loads "update_database.ml";;\nloadt "common/overlap.ml";;\n'
    "let WORD_ADD_LEMMA = prove(`!x:int64. word_add x (word 0) = x`, CONV_TAC WORD_RULE);;\n",
    "arm/proofs/bignum_foo.ml": 'needs "arm/proofs/base.ml";;\n\n'
    "let BIGNUM_FOO_CORRECT = time prove\n (`!pc. ensures arm P Q R`,\n  ARM_SIM_TAC);;\n\n"
    "let BIGNUM_FOO_SUBROUTINE_CORRECT = prove(`!pc. ensures arm P Q R'`, ARM_ADD_RETURN_TAC);;\n"
    "let LEMMA = prove(`!n. n + 0 = n`, ARITH_TAC);;\n"
    "let LEMMA = prove(`!n. 0 + n = n`, ARITH_TAC);;\n"
    "let RUNTIME = prove(mk_eq(`1`, `1`), REFL_TAC);;\n"
    "let NOQUOTE = prove(mk_eq(one, one), REFL_TAC);;\n",
    "arm/proofs/bignum_bar.ml": 'needs "arm/proofs/base.ml";;\nlet DUP = prove(`!n.   n + 0 = n`, ARITH_TAC);;\n',
    # the functions whose proof files are templates (simulator.ml has no function: it is not one)
    "arm/generic/bignum_foo.S": "",
    "arm/generic/bignum_bar.S": "",
    "arm/proofs/simulator.ml": "let SIM_LEMMA = prove(`T`, REWRITE_TAC[]);;\nlet _ = prove(`T`, REWRITE_TAC[]);;\n",
}


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "s2n-bignum"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_ids_categories_templates_and_context_cuts(tmp_path: Path) -> None:
    result = import_source(_checkout(tmp_path), tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    by_id = {p.id: p for p in suite.problems}
    # bignum_bar sorts first, so it is the template that first reaches base.ml's theorems, and its DUP
    # is the copy of `!n. n + 0 = n` that stays; bignum_foo's LEMMA is then the only one of its name.
    assert set(by_id) == {
        "common.overlap.NONOVERLAPPING_LEMMA",
        "arm.base.WORD_ADD_LEMMA",
        "arm.bignum_bar.DUP",
        "arm.bignum_foo.BIGNUM_FOO_CORRECT",
        "arm.bignum_foo.LEMMA",
        "arm.bignum_foo.RUNTIME",
    }
    # The benchmark keeps a goal computed at run time when it quotes a term, and leaves out one that quotes none.
    assert result.dropped == {"a subroutine wrapper of a _CORRECT theorem": 1, "the goal has no quoted term": 1}
    runtime = by_id["arm.bignum_foo.RUNTIME"]
    assert computed_goal(runtime) and runtime.statement == "mk_eq(`1`, `1`)"
    assert runtime.extension(BenchmarkQuery) == BenchmarkQuery(original_statement="mk_eq(`1`, `1`)")
    assert runtime.category == "generic"
    lemma = by_id["arm.bignum_foo.LEMMA"]
    assert not computed_goal(lemma) and lemma.statement == "!n. 0 + n = n"
    assert lemma.extension(BenchmarkQuery) == BenchmarkQuery(original_statement="`!n. 0 + n = n`")
    assert {p.id: p.category for p in suite.problems} == {
        "common.overlap.NONOVERLAPPING_LEMMA": "program_state",
        "arm.base.WORD_ADD_LEMMA": "bit_vector",
        "arm.bignum_bar.DUP": "generic",
        "arm.bignum_foo.BIGNUM_FOO_CORRECT": "functional_correctness_arm",
        "arm.bignum_foo.LEMMA": "generic",
        "arm.bignum_foo.RUNTIME": "generic",
    }
    assert by_id["arm.bignum_foo.BIGNUM_FOO_CORRECT"].reference_proof == "ARM_SIM_TAC"
    assert by_id["common.overlap.NONOVERLAPPING_LEMMA"].template.endswith("templates/arm/proofs/bignum_bar.ml")
    for p in suite.problems:
        assert p.template and p.template_root and p.template_line
        stream = inline(Path(p.template_root), Path(p.template).relative_to(p.template_root).as_posix())
        name = p.id.split(".")[2]
        assert stream.lines[p.template_line - 1].startswith(f"let {name} =")
        context = "\n".join(stream.lines[: p.template_line - 1])
        assert p.statement not in context and "CHEAT_TAC" in "\n".join(stream.lines)
        assert "ARITH_TAC" not in context and "ARM_SIM_TAC" not in context  # earlier proofs are admitted
    assert suite.manifest.template_includes and suite.manifest.metadata["imported_from"] == "source"


def test_a_second_theorem_of_a_name_numbers_both_and_the_timeout_map_picks_the_kept_copy(tmp_path: Path) -> None:
    timeouts = tmp_path / "map.json"
    timeouts.write_text(json.dumps([{"problem_id": "arm.bignum_foo.LEMMA.0", "prove_secs": 200.0}]))
    import_source(_checkout(tmp_path), tmp_path / "suite", timeouts)
    by_id = {p.id: p for p in load_suite(tmp_path / "suite").problems}
    assert "arm.bignum_bar.DUP" not in by_id  # the benchmark kept bignum_foo's copy
    assert by_id["arm.bignum_foo.LEMMA.0"].statement == "!n. n + 0 = n"
    assert by_id["arm.bignum_foo.LEMMA.0"].timeout_s == 1000 * TIMEOUT_SCALE  # min(10800, floor(5 * 200)), scaled
    assert by_id["arm.bignum_foo.LEMMA.1"].statement == "!n. 0 + n = n"


@pytest.mark.parametrize(
    ("name", "goal", "arch", "expected"),
    [
        ("X_CORRECT", "`ensures arm P Q R`", "arm", "functional_correctness_arm"),
        ("X_CORRECT", "`ensures x86 P Q R`", "x86", "functional_correctness_x86"),
        ("X_CORRECT", "`P ==> Q`", "arm", "generic"),
        ("LEMMA", "`read X0 s = a`", "arm", "program_state"),
        ("LEMMA", "`val(word_add x y) = z`", "arm", "bit_vector"),
        ("LEMMA", "`(val x = 1)`", "arm", "bit_vector"),
        ("LEMMA", "`!n. n + 0 = n`", "common", "generic"),
        ("X_EQUIV", "`T`", "arm", None),
        ("X_SUBROUTINE_SAFE", "`T`", "arm", None),
        ("RUNTIME", "mk_eq(a, b)", "arm", None),
    ],
)
def test_the_benchmark_category_rule(name: str, goal: str, arch: str, expected: str | None) -> None:
    assert categorize(name, goal, arch)[0] == expected


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not an s2n-bignum checkout"):
        import_source(tmp_path, tmp_path / "suite")


def test_cli_import_from_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from provebench.cli.main import main

    out = tmp_path / "suite"
    assert main(["suites", "import", "s2n-bignum", "--from-source", str(_checkout(tmp_path)), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "imported 6 problems" in captured.out and "left out as the benchmark does" in captured.err
    with pytest.raises(SystemExit) as info:
        main(["suites", "import", "s2n-bignum", "--from-source", "x", "--from", "y"])
    assert info.value.code == 2


def test_the_suite_hash_does_not_depend_on_where_the_suite_or_the_checkout_lies(tmp_path: Path) -> None:
    one, two = tmp_path / "a", tmp_path / "b" / "deeper"
    import_source(_checkout(one), one / "suite")
    import_source(_checkout(two), two / "suite")
    a, b = load_suite(one / "suite"), load_suite(two / "suite")
    assert a.problems[0].template_root != b.problems[0].template_root  # the suites do lie apart
    assert a.content_hash == b.content_hash
    moved = tmp_path / "moved"
    (one / "suite").rename(moved)
    assert load_suite(moved).content_hash == a.content_hash
    # What is checked still counts: a template's text and a timeout.
    template = next(moved.glob("templates/**/bignum_foo.ml"))
    template.write_text(template.read_text() + "\n(* changed *)\n")
    assert load_suite(moved).content_hash != a.content_hash


def test_the_shared_context_an_image_compiles_is_the_text_its_templates_start_with(tmp_path: Path) -> None:
    """What a native image compiles for base.ml is exactly the leading text of the imported templates."""
    import hashlib

    from provebench.systems.hol_light.template_text import CompiledContext, TemplateText
    from provebench.systems.hol_light.templates import TemplateForest

    checkout = _checkout(tmp_path)
    import_source(checkout, tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    text = TemplateText.admitted_prefix(checkout, "arm/proofs/base.ml").text()
    assert "CHEAT_TAC" in text and "CONV_TAC WORD_RULE" not in text  # proofs admitted, as in the templates
    context = CompiledContext("s2n_arm", text.count("\n"), hashlib.sha256(text.encode()).hexdigest())
    foo = [p for p in suite.problems if p.id.startswith("arm.bignum_foo.")]
    plain = TemplateText.of(foo[0])
    assert plain.text().startswith(text) and plain.with_compiled(context) is not plain
    # Problems after base.ml load it compiled; a template holding base.ml's own problems walks its text.
    routes = TemplateForest(suite.problems, [context]).routes
    assert routes[str(foo[0].template)].text_of.lines[0] == context.directive
    bar = suite.problem("common.overlap.NONOVERLAPPING_LEMMA")
    assert routes[str(bar.template)].text_of.lines[0] != context.directive
