"""``api: completions`` against a double of vLLM's /v1/completions, and the sampling parameters both APIs send.

The double speaks vLLM's wire format (tests/doubles/openai_api.py); what is checked is the JSON body the
prover sent and what it made of the reply.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provebench.core.errors import RunStopped, UserError
from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt, ProverOutput, ProverUnavailable
from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.prompting import PromptTemplates
from provebench.provers.registry import make_prover
from tests.doubles.openai_api import API_KEY, CHAT, COMPLETIONS, OpenAIApiDouble, fenced, prover_settings

PROBLEM = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="!n. n + 0 = n", timeout_s=5, checker_image="x")
FAILED = PreviousAttempt(proof="ARITH_TAC", status="FAIL", reason="tactic-failed", messages=("no",))


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    yield


def _prover(double: OpenAIApiDouble, **extra: Any) -> OpenAIChatProver:
    settings = prover_settings(double, **extra)
    prover = make_prover("openai", settings)
    assert isinstance(prover, OpenAIChatProver)
    prover.prepare([PROBLEM])
    return prover


def _attempts(prover: OpenAIChatProver, samples: list[int], history: tuple[PreviousAttempt, ...] = ()) -> list[Any]:
    """The attempts of these samples, all in flight at once (as a run sends them)."""

    async def go() -> list[ProverOutput]:
        try:
            return list(await asyncio.gather(*(prover.attempt(PROBLEM, s, history) for s in samples)))
        finally:
            await prover.aclose()

    return asyncio.run(go())


def test_api_completions_sends_one_raw_prompt_to_v1_completions_and_reads_choices_text() -> None:
    with OpenAIApiDouble(lambda goal, prompt: fenced("INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]")) as api:
        (out,) = _attempts(_prover(api, api="completions", prices={"input_per_mtok": 2, "output_per_mtok": 8}), [0])
    assert api.paths == [COMPLETIONS]
    generic = PromptTemplates.for_system(System.HOL_LIGHT, None).render(PROBLEM, ())
    assert api.requests[0] == {"model": api.model, "prompt": f"{generic.system}\n\n{generic.user}"}
    assert out.proof == "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]" and out.finish_reason == "stop"
    assert out.tokens_in > 0 and out.tokens_out > 0
    assert out.cost == pytest.approx((out.tokens_in * 2 + out.tokens_out * 8) / 1e6)


@pytest.mark.parametrize("api_name", ["chat", "completions"])
@pytest.mark.parametrize(
    "sampling",
    [
        {},
        {"temperature": 0.0},
        {"top_p": 0.95, "max_tokens": 2048},
        {"seed": 42, "stop": ["<|im_end|>", "\n\n\n"]},
        {"n": 1, "seed": 0, "temperature": 1.0, "top_p": 0.9, "max_tokens": 64, "stop": "```\n\n"},
    ],
)
def test_each_api_sends_exactly_the_sampling_parameters_set(api_name: str, sampling: dict[str, Any]) -> None:
    with OpenAIApiDouble(lambda goal, prompt: fenced("ARITH_TAC")) as api:
        _attempts(_prover(api, api=api_name, **sampling), [0])
    (body,) = api.requests
    expected = {k: [v] if k == "stop" and isinstance(v, str) else v for k, v in sampling.items()}
    asked = "prompt" if api_name == "completions" else "messages"
    assert body.keys() - {"model", asked} == expected.keys()  # nothing unset, nothing of the SDK's own
    assert {k: body[k] for k in expected} == expected
    assert api.paths == [COMPLETIONS if api_name == "completions" else CHAT]


def test_n_samples_share_one_request_each_taking_its_own_choice_and_the_seed_steps_per_request() -> None:
    replies = iter(f"```\nTAC_{i}\n```" for i in range(100))
    with OpenAIApiDouble(lambda goal, prompt: next(replies)) as api:
        outs = _attempts(_prover(api, api="completions", n=2, seed=7), [0, 1, 2, 3, 4])
    # Samples 0-1, 2-3 and 4 (with 5, which this run does not ask for) each share a request of n=2 choices.
    assert [(r["n"], r["seed"]) for r in sorted(api.requests, key=lambda r: int(r["seed"]))] == [(2, 7), (2, 8), (2, 9)]
    proofs = [o.proof for o in outs]
    assert len(set(proofs)) == 5 and all(re.fullmatch(r"TAC_\d+", p) for p in proofs)
    # The request's tokens and retries are journalled once, with the sample that takes its first choice.
    assert [o.tokens_out > 0 for o in outs] == [True, False, True, False, True]


def test_a_repair_round_asks_for_one_choice_of_its_own_prompt() -> None:
    with OpenAIApiDouble(lambda goal, prompt: "```\nARITH_TAC\n```") as api:
        _attempts(_prover(api, api="completions", n=4, seed=1), [2], history=(FAILED,))
    (body,) = api.requests
    assert body["n"] == 1 and body["seed"] == 3 and "Attempt 1 was:" in body["prompt"]


def test_stop_strings_and_max_tokens_end_a_reply_as_vllm_ends_it() -> None:
    reply = "```\nREFL_TAC\n```\nEND and more words after the stop string"
    with OpenAIApiDouble(lambda goal, prompt: reply) as api:
        stopped, cut = _attempts(_prover(api, api="completions", stop="END"), [0]) + _attempts(
            _prover(api, api="completions", max_tokens=2), [0]
        )
    assert stopped.raw_reply == "```\nREFL_TAC\n```\n" and stopped.finish_reason == "stop"
    assert stopped.proof == "REFL_TAC"
    assert cut.finish_reason == "length" and cut.proof is None  # cut inside the block: no proof


def test_faults_of_the_completions_route_are_classified_as_the_chat_routes_are() -> None:
    faults = ["429", "500", "malformed"]
    with OpenAIApiDouble(lambda goal, prompt: fenced("ARITH_TAC"), faults=faults, retry_after_s=0.1) as api:
        (out,) = _attempts(_prover(api, api="completions"), [0])
    assert out.proof == "ARITH_TAC" and api.served_faults == faults
    assert [r.error.split(":")[0] for r in out.api_retries] == ["HTTP 429", "HTTP 500", "MalformedReply"]
    with OpenAIApiDouble(lambda goal, prompt: fenced("ARITH_TAC"), faults=["400"]) as api:
        (out,) = _attempts(_prover(api, api="completions"), [0])
    assert out.proof is None and out.error is not None and out.error.startswith("HTTP 400: ")
    assert out.error.endswith("This model's maximum context length is exceeded.") and len(api.requests) == 1
    with OpenAIApiDouble(lambda goal, prompt: fenced("ARITH_TAC")) as api:
        with pytest.raises(ProverUnavailable, match=r"HTTP 404: .*The model `other` does not exist."):
            _attempts(_prover(api, api="completions", model="other"), [0])


def test_preflight_of_the_completions_api_names_an_unknown_model() -> None:
    with OpenAIApiDouble(lambda goal, prompt: "") as api:
        _prover(api, api="completions").preflight()
        with pytest.raises(RunStopped, match=r"does not serve model 'other' \(it serves: double-model\)"):
            _prover(api, api="completions", model="other").preflight()
    assert api.requests == []


def test_a_prompt_folder_of_ones_own_gives_the_raw_prompt_and_stays_sandboxed(tmp_path: Path) -> None:
    folder = tmp_path / "hol-light"
    folder.mkdir()
    (folder / "system.j2").write_text("unused by the completions API")
    (folder / "user.j2").write_text("unused by the completions API")
    (folder / "prompt.j2").write_text("Goal: `{{ problem.statement }}`\nTactic:")
    with OpenAIApiDouble(lambda goal, prompt: "```\nARITH_TAC\n```") as api:
        _attempts(_prover(api, api="completions", prompt_dir=str(tmp_path)), [0])
    assert api.requests[0]["prompt"] == "Goal: `!n. n + 0 = n`\nTactic:"  # exactly as rendered, not stripped
    (folder / "prompt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(UserError, match=r"prompt.j2: refused: access to attribute '__class__'"):
        make_prover("openai", {"model": "m", "api": "completions", "prompt_dir": str(tmp_path)}).prepare([PROBLEM])


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"stop": [""]}, "a stop string cannot be empty"),
        ({"top_p": 0}, "greater than 0"),
        ({"n": 0}, "greater than or equal to 1"),
        ({"seed": 1, "extra_body": {"seed": 2}}, "extra_body cannot set seed: the request sets it already"),
        ({"api": "responses"}, "Input should be 'chat' or 'completions'"),
    ],
)
def test_bad_sampling_settings_are_one_line_errors(settings: dict[str, Any], said: str) -> None:
    with pytest.raises(UserError, match=re.escape(said)):
        make_prover("openai", {"model": "m", **settings})
