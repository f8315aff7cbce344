"""Reasoning models, streamed replies and the adaptive window of requests, against the API double (127.0.0.1).

The double speaks vLLM's wire format: ``reasoning_content`` beside the answer, server-sent chunks with
``delta``s and a last usage chunk, OpenAI's ``completion_tokens_details.reasoning_tokens``.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from provebench.checking import registry
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.cli.run import LiveProgress
from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord, ProverAnswer, read_journal
from provebench.core.model import Problem, Reason, Status, System, Verdict
from provebench.provers.api import ProverOutput
from provebench.provers.cached import CachedProver
from provebench.provers.limiter import AdaptiveLimiter
from provebench.provers.openai_chat import OpenAIChatProver, Prices
from provebench.provers.registry import make_prover
from provebench.provers.reply_cache import ReplyCache
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced, prover_settings, tokens
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

PROBLEM = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="!n. n + 0 = n", timeout_s=5, checker_image="x")
PROOF = "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]"
# A model's thinking, with a code block of its own that is not its answer.
THOUGHT = "Hmm, maybe\n```ocaml\nWRONG_TAC\n```\nno: induction on n works."


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    yield


def _reasoner(**extra: Any) -> OpenAIApiDouble:
    return OpenAIApiDouble(lambda goal, user: fenced(PROOF), reason=lambda goal, user: THOUGHT, **extra)


def _prover(double: OpenAIApiDouble, **extra: object) -> OpenAIChatProver:
    settings = prover_settings(
        double, **{"prices": {"input_per_mtok": 2.0, "output_per_mtok": 8.0, "reasoning_per_mtok": 4.0}, **extra}
    )
    prover = make_prover("openai", settings)
    assert isinstance(prover, OpenAIChatProver)
    prover.prepare([PROBLEM])
    return prover


def _attempts(prover: OpenAIChatProver | CachedProver, samples: int = 1) -> list[ProverOutput]:
    async def go() -> list[ProverOutput]:
        try:
            return list(await asyncio.gather(*(prover.attempt(PROBLEM, s, ()) for s in range(samples))))
        finally:
            await prover.aclose()

    return asyncio.run(go())


def test_the_reasoning_is_kept_apart_and_the_proof_comes_from_the_answer_only() -> None:
    with _reasoner() as api:
        (out,) = _attempts(_prover(api))
    assert out.proof == PROOF
    assert out.reasoning == THOUGHT
    assert out.raw_reply is not None and "WRONG_TAC" not in out.raw_reply
    assert out.tokens_reasoning == tokens(THOUGHT)
    assert out.tokens_out == tokens(fenced(PROOF)) + tokens(THOUGHT)


def test_an_answer_without_a_code_block_has_no_proof_even_when_the_reasoning_has_one() -> None:
    with _reasoner(faults=["nocode"]) as api:
        (out,) = _attempts(_prover(api))
    assert out.proof is None
    assert out.reasoning == THOUGHT


def test_reasoning_tokens_are_priced_at_the_reasoning_price() -> None:
    with _reasoner() as api:
        (out,) = _attempts(_prover(api))
    answer = out.tokens_out - out.tokens_reasoning
    assert out.cost == pytest.approx((out.tokens_in * 2.0 + answer * 8.0 + out.tokens_reasoning * 4.0) / 1e6)


def test_reasoning_tokens_cost_the_output_price_when_none_is_set() -> None:
    prices = Prices(input_per_mtok=1.0, output_per_mtok=10.0)
    assert prices.cost(1000, 3000, 2000) == pytest.approx(prices.cost(1000, 3000, 0)) == pytest.approx(0.031)
    assert Prices(input_per_mtok=1.0, output_per_mtok=10.0, reasoning_per_mtok=1.0).cost(1000, 3000, 2000) == (
        pytest.approx(0.013)
    )


def test_vllms_newer_reasoning_field_is_read_too() -> None:
    with _reasoner(reasoning_field="reasoning") as api:
        (out,) = _attempts(_prover(api))
    assert (out.proof, out.reasoning) == (PROOF, THOUGHT)


def test_a_streamed_reply_is_the_same_reply_assembled_from_its_chunks() -> None:
    with _reasoner() as api:
        whole = _attempts(_prover(api, n=2), samples=2)
        streamed = _attempts(_prover(api, n=2, stream=True), samples=2)
        sent = api.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert [(o.proof, o.raw_reply, o.reasoning, o.finish_reason) for o in streamed] == [
        (o.proof, o.raw_reply, o.reasoning, o.finish_reason) for o in whole
    ]
    assert [(o.tokens_in, o.tokens_out, o.tokens_reasoning, o.cost) for o in streamed] == [
        (o.tokens_in, o.tokens_out, o.tokens_reasoning, o.cost) for o in whole
    ]
    assert streamed[0].tokens_reasoning == 2 * tokens(THOUGHT)  # the request's two choices, with its first sample


def test_a_streamed_text_completion_is_assembled_with_its_usage_and_stop() -> None:
    with OpenAIApiDouble(lambda goal, prompt: f"{PROOF}\n(* done *)") as api:
        (out,) = _attempts(_prover(api, api="completions", stream=True, stop=["(*"]))
        assert api.paths == ["/v1/completions"]
    assert (out.proof, out.raw_reply, out.finish_reason) == (None, f"{PROOF}\n", "stop")
    assert out.tokens_in > 0 and out.tokens_out == tokens(f"{PROOF}\n")
    assert out.reasoning is None and out.tokens_reasoning == 0


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("malformed", "MalformedReply: the stream is not of chat completion chunks"),
        ("cut", "MalformedReply: the stream ended before its choices did"),
        (
            "slow",
            "RequestTimedOut: no whole reply within request_timeout_s (0.5 s)",
        ),  # chunks keep coming, but the whole request outlasts request_timeout_s
    ],
)
def test_a_stream_that_breaks_or_outlasts_the_timeout_is_retried(fault: str, error: str) -> None:
    with _reasoner(faults=[fault], slow_s=1.5) as api:
        (out,) = _attempts(_prover(api, stream=True))
        assert api.served_faults == [fault]
    assert out.proof == PROOF
    assert [r.error.startswith(error) for r in out.api_retries] == [True]


def test_max_tokens_of_a_long_reasoning_reply_are_accepted_and_sent() -> None:
    with _reasoner() as api:
        _attempts(_prover(api, max_tokens=131072, stream=True))
        assert api.requests[0]["max_tokens"] == 131072


def test_streaming_is_no_part_of_the_request_the_cache_keys_on() -> None:
    with _reasoner() as api:
        assert _prover(api).request(PROBLEM, 0, ()) == _prover(api, stream=True).request(PROBLEM, 0, ())


def test_a_cached_reply_keeps_its_reasoning(tmp_path: Path) -> None:
    with _reasoner() as api:
        (asked,) = _attempts(CachedProver(_prover(api), ReplyCache(tmp_path)))
        (cached,) = _attempts(CachedProver(_prover(api), ReplyCache(tmp_path)))
        assert len(api.requests) == 1
    assert cached.cached and (cached.reasoning, cached.tokens_reasoning) == (asked.reasoning, asked.tokens_reasoning)


def test_a_withheld_raw_reply_takes_its_reasoning_with_it() -> None:
    record = AttemptRecord(
        problem="p",
        sample=0,
        round=0,
        prover=ProverAnswer(proof=PROOF, raw_reply=fenced(PROOF), reasoning=THOUGHT),
        verdict=Verdict(status=Status.PASS, reason=Reason.PROVED),
    )
    assert record.withheld("proof").prover.reasoning == THOUGHT
    bare = record.withheld("raw_reply").prover
    assert (bare.proof, bare.raw_reply, bare.reasoning) == (PROOF, None, None)


def test_a_429_narrows_the_window_the_prover_sends_in() -> None:
    with _reasoner(faults=["429"], retry_after_s=0.01) as api:
        prover = _prover(api)
        limiter = AdaptiveLimiter(8)
        prover.limit_requests(limiter)
        (out,) = _attempts(prover)
    assert out.proof == PROOF
    assert (limiter.window, limiter.throttles, limiter.in_flight) == (4, 1, 0)


def test_the_progress_line_shows_the_window_once_requests_were_throttled() -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=200)
    live = LiveProgress(console, enabled=True)
    live.LINE_EVERY_S = 0.0
    limiter = AdaptiveLimiter(8)
    live.watch(limiter)
    live.started(2, 2, [])
    record = AttemptRecord(problem="p", sample=0, round=0, verdict=Verdict(status=Status.PASS, reason=Reason.PROVED))
    live.on_record(record, True)
    limiter._throttled(0)
    live.on_record(record.model_copy(update={"sample": 1}), True)
    first, second = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert "in flight" not in first
    assert second.endswith(", requests in flight 4/8 (1 throttled)")


def test_a_bad_reasoning_price_is_a_one_line_error() -> None:
    with pytest.raises(UserError, match="prices.reasoning_per_mtok"):
        make_prover(
            "openai", {"model": "m", "prices": {"input_per_mtok": 1, "output_per_mtok": 1, "reasoning_per_mtok": -1}}
        )


def test_a_streamed_run_journals_the_reasoning_apart_from_the_reply_and_a_recheck_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    passes: Callable[..., Verdict] = lambda *_a: verdict(Status.PASS, Reason.PROVED)  # noqa: E731
    monkeypatch.setattr(registry, "factory_for", lambda _system: lambda _s, _p: ScriptedVerifierDouble(passes))
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_REPLY_CACHE_DIR", str(tmp_path / "replies"))
    with _reasoner(faults=["429"], retry_after_s=0.01) as api:
        config = {
            "suite": "hol-light-core",
            "problems": ["add_comm"],
            "n": 1,
            "out": str(tmp_path / "run"),
            "prover": {
                "name": "openai",
                "model": api.model,
                "base_url": api.base_url,
                "api_key_env": "DOUBLE_API_KEY",
                "stream": True,
                "max_tokens": 65536,
                "backoff_initial_s": 0.01,
            },
        }
        (tmp_path / "run.yaml").write_text(json.dumps(config))
        code = main(["run", "--config", str(tmp_path / "run.yaml"), "--json", "--no-progress"])
    assert "Traceback" not in capsys.readouterr().err
    assert code == 0
    (record,) = read_journal(tmp_path / "run" / "attempts.jsonl")
    assert (record.prover.proof, record.prover.reasoning) == (PROOF, THOUGHT)
    assert record.prover.tokens_reasoning == tokens(THOUGHT)
    totals = json.loads((tmp_path / "run" / "summary.json").read_text())["totals"]
    assert (totals["tokens_reasoning"], totals["tokens_out"]) == (tokens(THOUGHT), record.prover.tokens_out)
    assert [r.error.split(":")[0] for r in record.prover.api_retries] == ["HTTP 429"]
    # A recheck replays the answer with its reasoning, as it was.
    assert main(["recheck", str(tmp_path / "run"), "--out", str(tmp_path / "again"), "--no-progress", "--json"]) == 0
    (again,) = read_journal(tmp_path / "again" / "attempts.jsonl")
    assert again.prover == record.prover
