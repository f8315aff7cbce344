"""The baseline and replay provers, and proof extraction from chat replies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt
from provebench.provers.baseline import BaselineProver
from provebench.provers.extraction import extract_last_code_block
from provebench.provers.prompting import PromptTemplates
from provebench.provers.registry import make_prover
from provebench.provers.replay import ReplayProver
from provebench.systems.hol_light.goal import GoalExpression


def _problem(pid: str = "p1", statement: str = "!n. n + 0 = n") -> Problem:
    return Problem(id=pid, suite="s", system=System.HOL_LIGHT, statement=statement, timeout_s=5, checker_image="x")


def test_baseline_attempt_i_tries_strategy_i_and_a_repair_round_the_next() -> None:
    prover = make_prover("baseline", {})
    assert isinstance(prover, BaselineProver)
    prover.prepare([_problem()])
    strategies = prover.portfolio(System.HOL_LIGHT)
    assert len(strategies) >= 8
    got = [asyncio.run(prover.attempt(_problem(), i, ())).proof for i in range(len(strategies) + 1)]
    assert got == [s.tactic for s in strategies] + [strategies[0].tactic]
    failed = PreviousAttempt(proof=strategies[0].tactic, status="FAIL", reason="tactic-failed", messages=())
    assert asyncio.run(prover.attempt(_problem(), 0, (failed,))).proof == strategies[1].tactic


def test_baseline_portfolio_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("- name: x\n  tactik: ARITH_TAC\n")
    prover = make_prover("baseline", {"portfolio": str(bad)})
    with pytest.raises(UserError, match=r"p.yaml: entry 1: tactic: Field required"):
        prover.prepare([_problem()])
    with pytest.raises(UserError, match=r"prover baseline: setting 'colour': Extra inputs are not permitted"):
        make_prover("baseline", {"colour": "red"})
    with pytest.raises(UserError, match=r"unknown prover 'magic'; known provers: agent, baseline, openai, replay"):
        make_prover("magic", {})


S2N_STYLE_CSV = """problem_id,category,query,answer
p1,bit_vector,"Prove `x`","ARITH_TAC"
p2,bit_vector,"Prove `y`","REPEAT STRIP_TAC THEN
  ASM_MESON_TAC[ADD_SYM, ""quoted""]"
p1,bit_vector,"Prove `x`",MESON_TAC[]
"""


def test_replay_reads_the_benchmark_csv_with_multiline_answers(tmp_path: Path) -> None:
    f = tmp_path / "answers.csv"
    f.write_text(S2N_STYLE_CSV)
    prover = make_prover("replay", {"answers": str(f)})
    assert isinstance(prover, ReplayProver)
    prover.prepare([_problem("p1"), _problem("p2"), _problem("p3")])
    assert asyncio.run(prover.attempt(_problem("p1"), 0, ())).proof == "ARITH_TAC"
    assert asyncio.run(prover.attempt(_problem("p1"), 1, ())).proof == "MESON_TAC[]"
    assert asyncio.run(prover.attempt(_problem("p1"), 2, ())).proof is None  # no third answer
    assert asyncio.run(prover.attempt(_problem("p2"), 0, ())).proof == (
        'REPEAT STRIP_TAC THEN\n  ASM_MESON_TAC[ADD_SYM, "quoted"]'
    )
    assert asyncio.run(prover.attempt(_problem("p3"), 0, ())).proof is None
    assert prover.max_samples() == 2


def test_replay_reads_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "answers.jsonl"
    f.write_text('{"problem": "p1", "answer": "ARITH_TAC"}\n\n{"problem_id": "p1", "proof": "MESON_TAC[]"}\n')
    prover = make_prover("replay", {"answers": str(f)})
    prover.prepare([_problem("p1")])
    assert [asyncio.run(prover.attempt(_problem("p1"), i, ())).proof for i in (0, 1)] == ["ARITH_TAC", "MESON_TAC[]"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "id,proof\np1,X\n", r"needs the columns problem_id and answer"),
        ("a.csv", "problem_id,answer\np1,X,extra\n", r"line 2: more fields than the header has"),
        ("a.csv", "problem_id,answer\nnope,X\n", r"answers for problems the suite does not have: 'nope'"),
        ("a.csv", "problem_id,answer\n", r"no answers"),
        ("a.jsonl", '{"problem": "p1"}\n', r"line 1: needs string fields 'problem' and 'answer'"),
        ("a.jsonl", "{broken\n", r"line 1: invalid JSON"),
        ("a.csv", b"problem_id,answer\np1,\x00\x01", r"binary data"),
        ("a.csv", b"problem_id,answer\np1,\xff\xfe", r"not UTF-8 text"),
    ],
)
def test_bad_answer_files_give_one_line_errors(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    prover = make_prover("replay", {"answers": str(f)})
    with pytest.raises(UserError, match=message) as info:
        prover.prepare([_problem("p1")])
    assert "\n" not in str(info.value)


def test_replay_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"answers file not found"):
        make_prover("replay", {"answers": str(tmp_path / "none.csv")}).prepare([_problem()])
    with pytest.raises(UserError, match=r"setting 'answers': Field required"):
        make_prover("replay", {})


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Try this:\n```ocaml\nARITH_TAC\n```\n", "ARITH_TAC"),
        ("```\nA\n```\nthen better:\n```hol\nB THEN\n  C\n```", "B THEN\n  C"),
        ("no code at all", None),
        ("unterminated\n```ocaml\nARITH_TAC\n", None),
        ("~~~\nMESON_TAC[]\n~~~", "MESON_TAC[]"),
        ("````\nX\n```\nY\n````", "X\n```\nY"),  # a longer fence holds a shorter one
        ("```ocaml\n\n```", None),  # an empty block is no proof
        ("inline `ARITH_TAC` only", None),
    ],
)
def test_the_proof_is_the_last_complete_fenced_block(reply: str, expected: str | None) -> None:
    assert extract_last_code_block(reply) == expected


def test_prompt_templates_render_statement_and_repair_history() -> None:
    templates = PromptTemplates.for_system(System.HOL_LIGHT, None)
    assert set(templates.hashes) == {"hol-light/system.j2", "hol-light/user.j2"}
    first = templates.render(_problem(), ())
    assert "`!n. n + 0 = n`" in first.user and "Attempt 1" not in first.user
    previous = PreviousAttempt(proof="ARITH_TAC", status="FAIL", reason="tactic-failed", messages=("no progress",))
    repair = templates.render(_problem(), (previous,))
    assert "Attempt 1 was:" in repair.user and "ARITH_TAC" in repair.user and "no progress" in repair.user
    # A goal computed at run time is shown as the expression it is, not quoted as a term.
    expression = "(rand o concl o NUM_REDUCE_CONV) `2 + 2 = 4`"
    computed = templates.render(
        _problem().model_copy(
            update={"statement": expression, "extensions": (GoalExpression(statement_is_expression=True),)}
        ),
        (),
    )
    assert f"```ocaml\n{expression}\n```" in computed.user and f"`{expression}`" not in computed.user


def test_a_prompt_folder_with_a_broken_template_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "hol-light"
    folder.mkdir()
    (folder / "system.j2").write_text("ok")
    (folder / "user.j2").write_text("{% if %}")
    with pytest.raises(UserError, match=r"user.j2: line 1: template error"):
        PromptTemplates.for_system(System.HOL_LIGHT, tmp_path)
