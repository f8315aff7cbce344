"""The openai prover against a real OpenAI-compatible endpoint, where one is configured.

The remote API cannot be reached from this project's machines, so the tests
beside this one use a double of it (tests/doubles/openai_api.py). Set
PROVEBENCH_LIVE_BASE_URL, PROVEBENCH_LIVE_MODEL and PROVEBENCH_LIVE_KEY_ENV (the
name of the variable holding the key) to run this one.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from provebench.core.model import Problem, System
from provebench.provers.api import ProverOutput
from provebench.provers.registry import make_prover

pytestmark = pytest.mark.live_api

BASE_URL = os.environ.get("PROVEBENCH_LIVE_BASE_URL")
MODEL = os.environ.get("PROVEBENCH_LIVE_MODEL")
KEY_ENV = os.environ.get("PROVEBENCH_LIVE_KEY_ENV", "OPENAI_API_KEY")


@pytest.mark.skipif(
    not (BASE_URL and MODEL and os.environ.get(KEY_ENV)),
    reason="no live OpenAI-compatible endpoint configured (PROVEBENCH_LIVE_BASE_URL, PROVEBENCH_LIVE_MODEL and a key)",
)
def test_a_live_endpoint_answers_in_the_protocol_the_double_speaks() -> None:
    problem = Problem(
        id="add_comm",
        suite="live",
        system=System.HOL_LIGHT,
        statement="!m n. m + n = n + m",
        timeout_s=30,
        checker_image="hol-light",
    )
    prover = make_prover("openai", {"model": MODEL, "base_url": BASE_URL, "api_key_env": KEY_ENV, "max_tokens": 512})
    prover.prepare([problem])

    async def go() -> ProverOutput:
        try:
            return await prover.attempt(problem, 0, ())
        finally:
            await prover.aclose()

    out = asyncio.run(go())
    assert out.raw_reply and out.tokens_in > 0 and out.tokens_out > 0 and out.finish_reason is not None
