"""The OpenAI-compatible prover against a local double of the remote API (127.0.0.1).

The double speaks the real chat completions protocol; a live endpoint test is
in tests/integration/test_openai_live.py and runs only when one is configured.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench.core.errors import RunStopped
from provebench.core.model import Problem, System
from provebench.provers.api import ProverOutput, ProverUnavailable
from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.registry import make_prover
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced, prover_settings

PROBLEM = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="!n. n + 0 = n", timeout_s=5, checker_image="x")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    yield


def _prover(double: OpenAIApiDouble, **extra: object) -> OpenAIChatProver:
    settings = prover_settings(double, **{"prices": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}, **extra})
    prover = make_prover("openai", settings)
    assert isinstance(prover, OpenAIChatProver)
    prover.prepare([PROBLEM])
    return prover


def _attempt(prover: OpenAIChatProver) -> ProverOutput:
    async def go() -> ProverOutput:
        try:
            return await prover.attempt(PROBLEM, 0, ())
        finally:
            await prover.aclose()

    return asyncio.run(go())


def test_a_reply_gives_the_last_code_block_tokens_cost_and_finish_reason() -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]")) as api:
        out = _attempt(_prover(api))
        assert out.proof == "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]"
        assert out.finish_reason == "stop" and out.tokens_in > 0 and out.tokens_out > 0
        assert out.cost == pytest.approx((out.tokens_in * 2.0 + out.tokens_out * 8.0) / 1e6)
        assert out.raw_reply is not None and "a first idea" in out.raw_reply
        assert api.requests[0]["messages"][0]["role"] == "system"
        assert "`!n. n + 0 = n`" in api.requests[0]["messages"][1]["content"]


def test_transient_faults_are_retried_and_recorded() -> None:
    faults = ["429", "500", "slow", "malformed"]
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC"), faults=faults, retry_after_s=0.3, slow_s=1.0) as api:
        out = _attempt(_prover(api))
        assert out.proof == "ARITH_TAC"
        assert api.served_faults == faults
        errors = [r.error for r in out.api_retries]
        assert errors[0].startswith("HTTP 429") and errors[1].startswith("HTTP 500")
        assert errors[2].startswith("APITimeoutError") and errors[3].startswith("MalformedReply")
        assert out.api_retries[0].wait_seconds == pytest.approx(0.3)  # Retry-After honoured
        # Exponential backoff from 0.01 s with up to 0.01 s of jitter, capped at 0.05 s: the n-th retry waits
        # 0.01 * 2**(n-1) plus jitter, so the three after the Retry-After one wait 0.02-0.03, 0.04-0.05, 0.05.
        waits = [r.wait_seconds for r in out.api_retries[1:]]
        assert 0.02 <= waits[0] <= 0.03 and 0.04 <= waits[1] <= 0.05 and waits[2] == pytest.approx(0.05)


def test_a_reply_without_a_code_block_has_no_proof() -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC"), faults=["nocode"]) as api:
        out = _attempt(_prover(api))
        assert out.proof is None and out.raw_reply == "I cannot prove this." and not out.api_retries


def test_a_400_fails_the_attempt_without_retrying() -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC"), faults=["400"]) as api:
        out = _attempt(_prover(api))
        assert out.proof is None and out.error is not None and out.error.startswith("HTTP 400")
        assert len(api.requests) == 1


@pytest.mark.parametrize(("settings", "match"), [({"model": "no-such-model"}, "HTTP 404"), ({}, "HTTP 401")])
def test_bad_model_or_key_stops_the_run(settings: dict[str, str], match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not settings:
        monkeypatch.setenv("DOUBLE_API_KEY", "sk-wrong")
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC")) as api:
        with pytest.raises(ProverUnavailable, match=match):
            _attempt(_prover(api, **settings))


def test_retries_give_up_on_a_dead_endpoint() -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC"), faults=["500"] * 10) as api:
        with pytest.raises(ProverUnavailable, match=r"gave up after 4 retries: HTTP 500"):
            _attempt(_prover(api))
    prover = _prover(api)  # the server is shut down now: connection refused
    with pytest.raises(ProverUnavailable, match=r"APIConnectionError"):
        _attempt(prover)


def test_a_missing_key_variable_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from provebench.core.errors import UserError

    monkeypatch.delenv("DOUBLE_API_KEY")
    with pytest.raises(UserError, match=r"the environment variable DOUBLE_API_KEY \(api_key_env\) is not set"):
        make_prover("openai", {"model": "m", "api_key_env": "DOUBLE_API_KEY"}).prepare([PROBLEM])


def test_the_manifest_description_names_the_key_variable_not_the_key() -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC")) as api:
        prover = _prover(api)
        described = str(prover.describe())
        assert "DOUBLE_API_KEY" in described and API_KEY not in described
        assert set(prover.template_hashes()) == {"hol-light/system.j2", "hol-light/user.j2"}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"model": "no-such-model"}, "does not serve model 'no-such-model' (it serves: double-model)"),
        ({"api_key_env": "WRONG_KEY"}, "refused the key in WRONG_KEY: HTTP 401"),
    ],
)
def test_preflight_names_a_refused_key_or_an_unknown_model_at_once(
    change: dict[str, str], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_KEY", "sk-wrong")
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC")) as double:
        _prover(double).preflight()  # the right model and key: nothing to say
        with pytest.raises(RunStopped, match=re.escape(said)):
            _prover(double, **change).preflight()
        assert double.requests == []  # a model list, not a completion: no tokens spent


def test_a_run_against_a_dead_endpoint_fails_in_seconds_before_any_checker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from provebench.cli.main import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    started = time.monotonic()
    code = main(
        [
            "run",
            "--suite",
            "hol-light-core",
            "--prover",
            "openai",
            "--model",
            "m",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    # Refused at once (half a second here): 10 s, the preflight's own bound, leaves a loaded machine room.
    assert code == 3 and time.monotonic() - started < 10
    assert err.strip().splitlines() == [
        "provebench: run not started: prover openai: http://127.0.0.1:9/v1 does not answer: APIConnectionError: "
        "Connection error."
    ]
    assert not (tmp_path / "run").exists()  # nothing made, no checker started
