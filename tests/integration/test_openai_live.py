"""The openai prover against real OpenAI-compatible endpoints, where they are configured; and against the double.

The remote APIs cannot be reached from this project's machines, so the prover's own tests use a double of
them (tests/doubles/openai_api.py). The live checks here run only where an endpoint is configured by
environment variables (docs/development.md lists them) and skip otherwise, saying which are missing:

- chat: PROVEBENCH_LIVE_BASE_URL, PROVEBENCH_LIVE_MODEL, and the key in the variable PROVEBENCH_LIVE_KEY_ENV
  names (default OPENAI_API_KEY); the chat API, whole and streamed;
- completions: PROVEBENCH_LIVE_COMPLETIONS_BASE_URL and PROVEBENCH_LIVE_COMPLETIONS_MODEL (a prover model that
  vLLM or SGLang serves; a key only if PROVEBENCH_LIVE_COMPLETIONS_KEY_ENV names one); the completions API,
  whole and streamed, and the deepseek-prover-v2 preset, which is written for it;
- reasoning: PROVEBENCH_LIVE_REASONING_MODEL, at the chat endpoint unless PROVEBENCH_LIVE_REASONING_BASE_URL
  (with PROVEBENCH_LIVE_REASONING_KEY_ENV) names one of its own; its thinking is counted or kept apart.

Each check is also run against the double, the variables pointing at it, so that its code runs in `make test`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from provebench.core.model import Problem, System
from provebench.provers.api import ProverOutput
from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.registry import make_prover
from tests.doubles.openai_api import API_KEY, CHAT, COMPLETIONS, OpenAIApiDouble, fenced

HOL_PROBLEM = Problem(
    id="add_comm",
    suite="live",
    system=System.HOL_LIGHT,
    statement="!m n. m + n = n + m",
    timeout_s=30,
    checker_image="hol-light",
)
# The example of DeepSeek-Prover-V2's card, as the preset's own test has it.
PRESET = "deepseek-prover-v2"
PRESET_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / PRESET
LEAN_PROBLEM = Problem.model_validate(yaml.safe_load((PRESET_FIXTURE / "problem.yaml").read_text()))
FINISHED = ("stop", "length")  # how a reply ends, on OpenAI's API and on vLLM's, within max_tokens


@dataclass(frozen=True)
class Endpoint:
    """Where a check's requests go: the /v1 root, the model, and the variable holding the key (None: no key)."""

    base_url: str
    model: str
    key_env: str | None


def live_endpoint(url_var: str, model_var: str, key_var: str, default_key_env: str | None) -> Endpoint | str:
    """The endpoint these variables name, or why there is none (a variable unset, or the key it names)."""
    base_url, model = os.environ.get(url_var), os.environ.get(model_var)
    key_env = os.environ.get(key_var, default_key_env) or None  # set empty: no key
    if not (base_url and model):
        return f"no live endpoint configured ({url_var} and {model_var})"
    if key_env and not os.environ.get(key_env):
        return f"the live endpoint's key variable {key_env} ({key_var}) is not set"
    return Endpoint(base_url, model, key_env)


def chat_endpoint() -> Endpoint | str:
    """The chat endpoint: a hosted API by default, hence a key (OPENAI_API_KEY unless told another variable)."""
    return live_endpoint(
        "PROVEBENCH_LIVE_BASE_URL", "PROVEBENCH_LIVE_MODEL", "PROVEBENCH_LIVE_KEY_ENV", "OPENAI_API_KEY"
    )


def completions_endpoint() -> Endpoint | str:
    """The completions endpoint: a prover model on vLLM or SGLang, which asks for no key unless started with one."""
    return live_endpoint(
        "PROVEBENCH_LIVE_COMPLETIONS_BASE_URL",
        "PROVEBENCH_LIVE_COMPLETIONS_MODEL",
        "PROVEBENCH_LIVE_COMPLETIONS_KEY_ENV",
        None,
    )


def reasoning_endpoint() -> Endpoint | str:
    """The reasoning model: at an endpoint of its own (keyed as the completions one), else at the chat endpoint."""
    if os.environ.get("PROVEBENCH_LIVE_REASONING_BASE_URL"):
        return live_endpoint(
            "PROVEBENCH_LIVE_REASONING_BASE_URL",
            "PROVEBENCH_LIVE_REASONING_MODEL",
            "PROVEBENCH_LIVE_REASONING_KEY_ENV",
            None,
        )
    return live_endpoint(
        "PROVEBENCH_LIVE_BASE_URL", "PROVEBENCH_LIVE_REASONING_MODEL", "PROVEBENCH_LIVE_KEY_ENV", "OPENAI_API_KEY"
    )


def attempt(endpoint: Endpoint, problem: Problem, settings: dict[str, Any]) -> ProverOutput:
    """One attempt of the openai prover at ``endpoint`` with these settings, after the preflight a run makes."""
    prover = make_prover(
        "openai", {"model": endpoint.model, "base_url": endpoint.base_url, "api_key_env": endpoint.key_env, **settings}
    )
    assert isinstance(prover, OpenAIChatProver)
    prover.preflight()  # the endpoint serves the model and takes the key, as a run asks first
    prover.prepare([problem])

    async def go() -> ProverOutput:
        try:
            return await prover.attempt(problem, 0, ())
        finally:
            await prover.aclose()

    return asyncio.run(go())


def assert_answered(out: ProverOutput) -> None:
    """What the double's tests read of a reply: its text, its prompt and completion tokens, how it ended."""
    assert out.error is None, out.error
    assert out.raw_reply, "the reply has no text"
    assert out.tokens_in > 0 and out.tokens_out > 0, (out.tokens_in, out.tokens_out)
    assert out.finish_reason in FINISHED, out.finish_reason


def answers(endpoint: Endpoint, settings: dict[str, Any]) -> None:
    """A HOL Light goal gets a reply."""
    assert_answered(attempt(endpoint, HOL_PROBLEM, settings))


def streams_as_it_answers(endpoint: Endpoint, settings: dict[str, Any]) -> None:
    """A streamed reply is read as a whole one is: text, usage (provebench asks for it) and finish reason."""
    whole = attempt(endpoint, HOL_PROBLEM, settings)
    streamed = attempt(endpoint, HOL_PROBLEM, {**settings, "stream": True})
    assert_answered(whole)
    # provebench sends stream_options.include_usage; a server that ignores it sends no usage chunk.
    assert streamed.tokens_in > 0, "the stream had no usage: does the server honour stream_options.include_usage?"
    assert_answered(streamed)
    assert streamed.tokens_in == whole.tokens_in  # the same prompt, the same count


def proves_by_preset(endpoint: Endpoint, settings: dict[str, Any]) -> None:
    """The preset's raw prompt gets a reply; one the model ended itself closes the block the prompt opened."""
    out = attempt(endpoint, LEAN_PROBLEM, settings)
    assert_answered(out)
    if out.finish_reason == "stop":  # not cut at max_tokens: the proof is the prompt's theorem and the reply
        assert out.proof is not None and "theorem mathd_algebra_10" in out.proof, out.raw_reply


def reasons(endpoint: Endpoint, settings: dict[str, Any]) -> None:
    """A reasoning model's thinking is counted apart (OpenAI's usage) or kept apart (vLLM's reasoning field)."""
    out = attempt(endpoint, HOL_PROBLEM, settings)
    assert out.error is None, out.error
    assert out.tokens_in > 0 and out.tokens_out >= out.tokens_reasoning, (out.tokens_out, out.tokens_reasoning)
    assert out.tokens_reasoning > 0 or out.reasoning, "neither reasoning tokens nor a reasoning text"
    assert out.finish_reason in FINISHED, out.finish_reason


@dataclass(frozen=True)
class Check:
    """One live check: the endpoint it needs, the prover settings it runs with, and what must hold of them."""

    name: str
    endpoint: Callable[[], Endpoint | str]
    settings: dict[str, Any]
    holds: Callable[[Endpoint, dict[str, Any]], None]


# A reasoning model's budget as max_completion_tokens: OpenAI's reasoning models refuse max_tokens, and vLLM and
# SGLang take either.
THINKING = {"extra_body": {"max_completion_tokens": 4096}}
CHECKS = [
    Check("chat", chat_endpoint, {"max_tokens": 512}, answers),
    Check("chat-streamed", chat_endpoint, {"max_tokens": 512}, streams_as_it_answers),
    Check("completions", completions_endpoint, {"api": "completions", "max_tokens": 512}, answers),
    Check(
        "completions-streamed", completions_endpoint, {"api": "completions", "max_tokens": 512}, streams_as_it_answers
    ),
    Check(
        "completions-preset",
        completions_endpoint,
        {"api": "completions", "prompt": PRESET, "max_tokens": 2048},
        proves_by_preset,
    ),
    Check("reasoning", reasoning_endpoint, THINKING, reasons),
    Check("reasoning-streamed", reasoning_endpoint, {**THINKING, "stream": True}, reasons),
]


@pytest.mark.live_api
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_a_live_endpoint_answers_in_the_protocol_the_double_speaks(check: Check) -> None:
    endpoint = check.endpoint()
    if isinstance(endpoint, str):
        pytest.skip(f"{check.name}: {endpoint}")
    check.holds(endpoint, check.settings)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_each_live_check_holds_against_the_double_it_is_named_after(
    check: Check, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(goal: str, asked: str) -> str:
        preset = asked.startswith("Complete the following Lean 4 code")
        return (PRESET_FIXTURE / "reply.txt").read_text() if preset else fenced("ARITH_TAC")

    thinking = (
        (lambda goal, asked: "Induction on m, then ADD_CLAUSES.") if check.endpoint is reasoning_endpoint else None
    )
    with OpenAIApiDouble(answer, reason=thinking) as api:
        # One server for every route, as vLLM serves; the reasoning model at the chat endpoint (its default).
        variables = {
            "PROVEBENCH_LIVE_BASE_URL": api.base_url,
            "PROVEBENCH_LIVE_MODEL": api.model,
            "PROVEBENCH_LIVE_KEY_ENV": "DOUBLE_API_KEY",
            "PROVEBENCH_LIVE_COMPLETIONS_BASE_URL": api.base_url,
            "PROVEBENCH_LIVE_COMPLETIONS_MODEL": api.model,
            "PROVEBENCH_LIVE_COMPLETIONS_KEY_ENV": "DOUBLE_API_KEY",
            "PROVEBENCH_LIVE_REASONING_MODEL": api.model,
            "DOUBLE_API_KEY": API_KEY,
        }
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("PROVEBENCH_LIVE_REASONING_BASE_URL", raising=False)
        endpoint = check.endpoint()
        assert isinstance(endpoint, Endpoint), endpoint
        check.holds(endpoint, check.settings)
    # The check asked the API it is named after, streaming where it is meant to (the last request, if any).
    assert api.paths and set(api.paths) == {COMPLETIONS if check.settings.get("api") == "completions" else CHAT}
    streams = bool(check.settings.get("stream")) or check.holds is streams_as_it_answers
    assert bool(api.requests[-1].get("stream")) == streams
