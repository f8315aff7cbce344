"""Benchmark data beyond the core problem fields: typed extensions that live with their importers and checkers."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import pytest

from provebench.core.errors import UserError
from provebench.core.model import Kind, Problem, ProblemExtension, System
from provebench.provers.prompting import PromptTemplates
from provebench.suites import extensions
from provebench.suites.load import load_suite
from provebench.suites.s2n_query import BenchmarkQuery
from provebench.systems.hol_light.goal import computed_goal
from provebench.systems.lean.fill_in import FillInAnswer

HOL_SUITE = "name: ext-hol\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"
HOL_PROBLEMS = """\
- {id: computed, statement: "(rand o concl o NUM_REDUCE_CONV) `2 + 2 = 4`", statement_is_expression: true,
   original_statement: "(rand o concl o NUM_REDUCE_CONV) `2 + 2 = 4`"}
- {id: quoted, statement: "!n. 0 + n = n", original_statement: "`!n. 0 + n = n`"}
- {id: plain, statement: "T", statement_is_expression: false}
"""
LEAN_SUITE = "name: ext-lean\nsystem: lean4\nversion: '1'\nchecker_image: lean4-mathlib\n"
LEAN_PROBLEMS = """\
- id: pick_two
  kind: fill-in
  statement: "abbrev pick_two_solution : ℕ := sorry\\ntheorem pick_two : Nat.choose 5 2 = pick_two_solution := by sorry"
  answer: "10"
  answer_statement: "theorem pick_two : Nat.choose 5 2 = ((10) : ℕ) := by sorry"
  answer_checks: {pick_two_solution: "example : ($solution) $op (($answer : ℕ)) := by $tactics"}
- {id: plain, statement: "theorem t : True := by sorry"}
"""
# Each suite's content hash as provebench computed it (at 017dea0) while these fields were the problem's own:
# where a field is declared must not change a suite's hash, nor so any board's pin of it.
HASH_BEFORE_EXTENSIONS = {
    "ext-hol": "sha256:a25197eca8aa02e9a1fe1016b54d5492333b04c64f105bf084a3aa51f65976f8",
    "ext-lean": "sha256:8a03e3601d673f3a10d393e67fb27e485a359568a17490f905e533849117bfe3",
}


def _suite(tmp_path: Path, manifest: str, problems: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "suite.yaml").write_text(manifest)
    (tmp_path / "problems.yaml").write_text(problems)
    return tmp_path


def test_extension_fields_go_to_their_types_and_hash_as_before(tmp_path: Path) -> None:
    hol = load_suite(_suite(tmp_path / "hol", HOL_SUITE, HOL_PROBLEMS))
    computed, quoted, plain = (hol.problem(pid) for pid in ("computed", "quoted", "plain"))
    assert computed_goal(computed) and not computed_goal(quoted) and not computed_goal(plain)
    assert quoted.extension(BenchmarkQuery) == BenchmarkQuery(original_statement="`!n. 0 + n = n`")
    assert plain.extension(BenchmarkQuery) is None and plain.extension(FillInAnswer) is None
    lean = load_suite(_suite(tmp_path / "lean", LEAN_SUITE, LEAN_PROBLEMS))
    answer = lean.problem("pick_two").extension(FillInAnswer)
    assert answer is not None and answer.answer == "10" and answer.answer_checks[0][0] == "pick_two_solution"
    assert lean.problem("plain").extensions == ()
    assert {s.name: s.content_hash for s in (hol, lean)} == HASH_BEFORE_EXTENSIONS


def test_a_problem_with_extensions_survives_its_json(tmp_path: Path) -> None:
    for manifest, problems, folder in ((HOL_SUITE, HOL_PROBLEMS, "hol"), (LEAN_SUITE, LEAN_PROBLEMS, "lean")):
        for problem in load_suite(_suite(tmp_path / folder, manifest, problems)).problems:
            again = Problem.model_validate_json(problem.model_dump_json())
            assert again == problem and [type(e) for e in again.extensions] == [type(e) for e in problem.extensions]
    with pytest.raises(ValueError, match="unknown problem extension 'nope.data'"):
        Problem.model_validate(
            {"id": "a", "suite": "s", "system": "hol-light", "statement": "T", "timeout_s": 1, "checker_image": "h"}
            | {"extensions": {"nope.data": {}}}
        )


@pytest.mark.parametrize(
    ("manifest", "problems", "message"),
    [
        (LEAN_SUITE, "- {id: a, statement: s, statement_is_expression: true}\n", "is for hol-light suites only"),
        (HOL_SUITE, "- {id: a, statement: T, answer: '1'}\n", "field 'answer' is for lean4 suites only"),
        (LEAN_SUITE, "- {id: a, statement: s, answer: '1'}\n", "field 'answer' is for fill-in problems only"),
        (LEAN_SUITE, "- {id: a, kind: fill-in, statement: s}\n", "a fill-in problem needs field 'answer'"),
        (
            LEAN_SUITE,
            "- {id: a, kind: fill-in, statement: s, answer: '1', answer_checks: {a_solution: 'example : $solution'}}\n",
            "problem 1 (a): field 'answer_checks': the answer check of 'a_solution' lacks $answer",
        ),
        (HOL_SUITE, "- {id: a, statement: T, statement_is_expression: maybe}\n", "field 'statement_is_expression'"),
        (HOL_SUITE, "- {id: a, statement: T, colour: red}\n", "field 'colour': Extra inputs are not permitted"),
    ],
)
def test_extension_fields_in_the_wrong_place_are_one_line_errors(
    tmp_path: Path, manifest: str, problems: str, message: str
) -> None:
    with pytest.raises(UserError) as info:
        load_suite(_suite(tmp_path, manifest, problems))
    assert message in str(info.value) and "\n" not in str(info.value)


class ProofSketch(ProblemExtension):
    """An outside package's data: an informal proof sketch for HOL Light theorems."""

    key: ClassVar[str] = "toy.sketch"
    system: ClassVar[System] = System.HOL_LIGHT
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.THEOREM})

    sketch: str


def test_extensions_come_from_installed_packages_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="sketch", value=f"{__name__}:ProofSketch", group=extensions.ENTRY_POINT_GROUP)
    loaded: list[str] = []
    monkeypatch.setattr(
        extensions, "entry_points", lambda group: loaded.append(group) or ([ep] if group == ep.group else [])
    )
    extensions.known_extensions.cache_clear()  # looked up once per process: this test's process looks again
    try:
        suite = load_suite(_suite(tmp_path, HOL_SUITE, "- {id: a, statement: T, sketch: by truth}\n"))
        load_suite(_suite(tmp_path / "again", HOL_SUITE, "- {id: a, statement: T, sketch: by truth}\n"))
    finally:
        extensions.known_extensions.cache_clear()
    assert loaded == [extensions.ENTRY_POINT_GROUP]  # once, for both suites
    assert suite.problem("a").extension(ProofSketch) == ProofSketch(sketch="by truth")


def test_prompt_templates_see_extension_fields_on_every_problem_of_their_system(tmp_path: Path) -> None:
    """The bundled HOL Light template asks ``problem.statement_is_expression`` of problems with no extension."""
    templates = PromptTemplates.for_system(System.HOL_LIGHT, None)
    hol = load_suite(_suite(tmp_path, HOL_SUITE, HOL_PROBLEMS))
    assert "expression computes" in templates.render(hol.problem("computed"), ()).user
    plain = templates.render(hol.problem("plain").model_copy(update={"extensions": ()}), ()).user
    assert "Prove this goal in HOL Light:\n```\n`T`\n```" in plain
