"""Prompt presets: each renders its model's documented prompt and finds the proof where its model's evaluation does.

Every bundled preset has a fixture under tests/fixtures/presets/<name>/: a problem (the example of the model
card it follows, or one of our own), a reply in the model's documented output format, and the request body and
proof expected. The prover sends the request to the API double over HTTP, so what is compared is the wire. A
preset that sends the suite's own prompt file (s2n-bignum-bench's) gets its problem from a suite folder keeping
a prompt file the test writes (tests/prompt_suites.py), never the benchmark's text.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from provebench.core.errors import UserError
from provebench.core.model import Problem
from provebench.provers.api import ProverOutput
from provebench.provers.extraction import Extraction, extract
from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.presets import PresetManifest, known_presets, load_preset
from provebench.provers.registry import make_prover
from provebench.suites.extensions import known_extensions
from provebench.suites.load import load_suite
from tests.doubles.openai_api import API_KEY, CHAT, COMPLETIONS, OpenAIApiDouble
from tests.prompt_suites import prompt_suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "presets"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)


def _fixture_problem(name: str, tmp_path: Path | None = None) -> Problem:
    """The fixture's problem; for a preset sending the suite's prompt file, as a suite folder keeping one gives it."""
    known_extensions()  # the s2n-bignum-bench query extension, registered
    problem = Problem.model_validate(yaml.safe_load((FIXTURES / name / "problem.yaml").read_text()))
    if load_preset(name).manifest.suite_prompt is None:
        return problem
    assert tmp_path is not None
    fields = {k: v for e in problem.extensions for k, v in e.model_dump().items()}
    entry = {"id": problem.id, "statement": problem.statement, "timeout_s": problem.timeout_s, **fields}
    return load_suite(prompt_suite(tmp_path / "suite", problems=[entry])).problems[0]


def _run_once(double: OpenAIApiDouble, problem: Problem, **settings: Any) -> ProverOutput:
    prover = make_prover(
        "openai", {"model": double.model, "base_url": double.base_url, "api_key_env": "DOUBLE_API_KEY", **settings}
    )
    assert isinstance(prover, OpenAIChatProver)
    prover.prepare([problem])

    async def go() -> ProverOutput:
        try:
            return await prover.attempt(problem, 0, ())
        finally:
            await prover.aclose()

    return asyncio.run(go())


def _asked(double: OpenAIApiDouble) -> dict[str, Any]:
    """What the one request asked, as the expected files hold it: the route and its messages or prompt."""
    (request,), (path,) = double.requests, double.paths
    if path == COMPLETIONS:
        return {"path": path, "prompt": request["prompt"]}
    return {"path": path, "messages": request["messages"]}


@pytest.mark.parametrize("name", known_presets())
def test_a_preset_sends_its_documented_prompt_and_takes_the_proof_as_its_model_evaluation_does(
    name: str, tmp_path: Path
) -> None:
    folder = FIXTURES / name
    reply = (folder / "reply.txt").read_text()
    with OpenAIApiDouble(lambda goal, asked: reply) as api:
        out = _run_once(api, _fixture_problem(name, tmp_path), prompt=name)
    assert _asked(api) == json.loads((folder / "expected-request.json").read_text())
    assert set(api.requests[0]) == {"model", "messages" if api.paths[0] == CHAT else "prompt"}  # nothing else set
    assert out.proof == (folder / "expected-proof.txt").read_text()
    assert out.raw_reply == reply


def test_every_preset_names_its_sources_and_has_the_templates_of_its_api() -> None:
    names = known_presets()
    assert names == [
        "deepseek-prover-v2",
        "deepseek-prover-v2-cot",
        "goedel-prover-v2",
        "kimina-prover",
        "s2n-bignum-bench",
    ]
    for name in names:
        preset = load_preset(name)
        assert preset.manifest.api in preset.apis
        assert all(s.startswith("https://") for s in preset.manifest.sources)
        assert (FIXTURES / name / "expected-request.json").is_file(), f"{name} has no fixture"


def test_the_deepseek_cot_prompt_is_the_model_cards_own() -> None:
    """The card's Quick Start formats its prompt with the example's statement: the preset gives the same text."""
    card_prompt = """
Complete the following Lean 4 code:

```lean4
{}
```

Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan outlining the main proof steps and strategies.
The plan should highlight key ideas, intermediate lemmas, and proof structures that will guide the construction of the final formal proof.
""".strip()  # noqa: E501 - the card's lines, as they are
    problem = _fixture_problem("deepseek-prover-v2-cot")
    card_statement = f"{problem.context}\n/-- {problem.informal}-/\n{problem.statement}".strip()
    expected = json.loads((FIXTURES / "deepseek-prover-v2-cot" / "expected-request.json").read_text())
    assert expected["messages"] == [{"role": "user", "content": card_prompt.format(card_statement)}]


def test_a_preset_for_another_proof_system_is_a_one_line_error(tmp_path: Path) -> None:
    hol_problem = _fixture_problem("s2n-bignum-bench", tmp_path)
    prover = make_prover("openai", {"model": "m", "api_key_env": "DOUBLE_API_KEY", "prompt": "kimina-prover"})
    with pytest.raises(UserError) as caught:
        prover.prepare([hol_problem])
    assert str(caught.value) == (
        "prompt preset kimina-prover is for lean4 problems, and this suite's are hol-light; choose a hol-light "
        "preset (`provebench provers presets`) or none"
    )


def test_an_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"^unknown prompt preset 'deepseek'; known presets: deepseek-prover-v2, "):
        make_prover("openai", {"model": "m", "prompt": "deepseek"})


def test_a_preset_refuses_an_api_it_has_no_templates_for() -> None:
    with pytest.raises(UserError, match=r"deepseek-prover-v2 is written for the completions API and has no "):
        make_prover("openai", {"model": "m", "prompt": "deepseek-prover-v2", "api": "chat"})
    with pytest.raises(UserError, match=r"prover openai: setting '\(settings\)': .*prompt \(a bundled preset\) or"):
        make_prover("openai", {"model": "m", "prompt": "kimina-prover", "prompt_dir": "/tmp"})


def test_a_preset_has_no_repair_rounds() -> None:
    assert not make_prover("openai", {"model": "m", "prompt": "goedel-prover-v2"}).can_repair
    assert make_prover("openai", {"model": "m"}).can_repair


def test_the_s2n_preset_also_sends_its_text_as_a_raw_prompt(tmp_path: Path) -> None:
    problem = _fixture_problem("s2n-bignum-bench", tmp_path)
    with OpenAIApiDouble(lambda goal, asked: "ACCEPT_TAC ADD_SYM") as api:
        out = _run_once(api, problem, prompt="s2n-bignum-bench", api="completions")
    chat = json.loads((FIXTURES / "s2n-bignum-bench" / "expected-request.json").read_text())
    assert api.paths == [COMPLETIONS] and api.requests[0]["prompt"] == chat["messages"][0]["content"]  # the same text
    assert out.proof == "ACCEPT_TAC ADD_SYM"  # no fenced block: the whole reply, as the benchmark takes an answer


def test_an_open_block_rule_needs_the_completions_api() -> None:
    with pytest.raises(ValueError, match="open-block needs api completions"):
        PresetManifest.model_validate(
            {"title": "t", "system": "lean4", "api": "chat", "extract": {"rule": "open-block"}, "sources": ["x"]}
        )


OPENS = "Go:\n```lean4\nlemma t"  # a raw prompt that leaves a block open


@pytest.mark.parametrize(
    ("rule", "reply", "prompt", "expected"),
    [
        # The block the prompt opened, closed by the reply; a later block of the reply is another matter.
        ({"rule": "open-block"}, " := by\n  simp\n```\n```lean4\nb\n```", OPENS, "lemma t := by\n  simp"),
        ({"rule": "open-block"}, " := by\n  simp", OPENS, None),  # cut before the fence closed
        ({"rule": "last-lean4-block"}, "```lean4\na\n```\n```python\nb\n```", "", "a"),
        ({"rule": "last-lean4-block"}, "```lean\na\n```", "", "a"),  # no lean4 block: the last lean one
        ({"rule": "last-lean4-block", "requires": ["t"]}, "```lean4\nlemma t\n```\n```lean4\nrfl\n```", "", "lemma t"),
        ({"rule": "last-code-block", "fallback": "reply"}, "  ARITH_TAC \n", "", "ARITH_TAC"),
        ({"rule": "last-code-block"}, "ARITH_TAC", "", None),
    ],
)  # fmt: skip
def test_extraction_rules(rule: dict[str, Any], reply: str, prompt: str, expected: str | None) -> None:
    assert extract(Extraction.model_validate(rule), reply, prompt) == expected


def test_a_repeated_header_is_dropped_and_the_rest_kept() -> None:
    rule = Extraction(rule="last-lean4-block", strip_context=True)
    reply = "```lean4\nimport Mathlib\n\nopen Real\n\n/-- doc -/\ntheorem t : True := by\n  open Nat in trivial\n```"
    assert extract(rule, reply, context="import Mathlib\nopen Real\n") == (
        "/-- doc -/\ntheorem t : True := by\n  open Nat in trivial"
    )
