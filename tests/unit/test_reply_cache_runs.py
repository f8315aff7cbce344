"""Runs of the openai prover through the reply cache: a resumed or repeated run asks the endpoint nothing twice.

``provebench run`` as a user types it, against the double of the chat completions API (127.0.0.1) and the
scripted checker double (Docker is not needed: image building is skipped); the cache is a real folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provebench.checking import registry
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.core.journal import read_journal
from provebench.core.model import Problem, Reason, Status, Verdict
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

PROBLEMS = ["excluded_middle", "contrapositive", "add_comm"]


def _passes(_problem: Problem, _proof: str, _call: int) -> Verdict:
    return verdict(Status.PASS, Reason.PROVED)


def _add_comm_errs(problem: Problem, _proof: str, _call: int) -> Verdict:
    if problem.id == "add_comm":
        return verdict(Status.ERROR, Reason.CHECKER_UNAVAILABLE, "the checker died")
    return verdict(Status.PASS, Reason.PROVED)


@pytest.fixture
def checker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Any], None]:
    """Check with the scripted double (set the script with the function returned); no images, a cache of our own."""
    script: list[Any] = [_passes]
    monkeypatch.setattr(
        registry, "factory_for", lambda _system: lambda _s, _p: ScriptedVerifierDouble(lambda *a: script[0](*a))
    )
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_REPLY_CACHE_DIR", str(tmp_path / "replies"))
    monkeypatch.setenv("PROVEBENCH_INFRA_BACKOFF_S", "0")
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)

    def use(new: Any) -> None:
        script[0] = new

    return use


def _run(api: OpenAIApiDouble, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """``provebench run ... --json`` of the openai prover on three problems, n = 2; its exit code and summary."""
    args = ["run", *argv, "--json", "--no-progress"]
    if "--resume" not in argv:
        args += ["--suite", "hol-light-core", "--prover", "openai", "--model", api.model, "--base-url", api.base_url]
        args += ["--api-key-env", "DOUBLE_API_KEY", "-n", "2", "--infra-retries", "0"]
        args += [a for p in PROBLEMS for a in ("--problem", p)]
    code = main(args)
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err, printed.err
    summary = json.loads(printed.out[printed.out.index("{") :])
    return code, summary


def test_a_resumed_run_takes_the_replies_it_got_from_the_cache_and_says_how_many(
    tmp_path: Path, checker: Callable[[Any], None], capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("MESON_TAC[]")) as api:
        checker(_add_comm_errs)
        code, first = _run(api, capsys, "--out", str(tmp_path / "run"))
        assert code == 3 and first["by_status"] == {"ERROR": 2, "PASS": 4}
        assert len(api.requests) == 6 and first["totals"]["cached_replies"] == 0
        checker(_passes)
        code, resumed = _run(api, capsys, "--resume", str(tmp_path / "run"))
        assert code == 0 and resumed["by_status"] == {"PASS": 6}
        assert len(api.requests) == 6  # add_comm's two replies were asked once, in the first session
    assert resumed["totals"]["cached_replies"] == 2
    records = read_journal(tmp_path / "run" / "attempts.jsonl")
    cached = [(r.problem, r.sample, r.session) for r in records if r.prover.cached]
    assert sorted(cached) == [("add_comm", 0, 1), ("add_comm", 1, 1)]
    assert all(r.prover.proof == "MESON_TAC[]" and r.prover.raw_reply for r in records)
    assert resumed["totals"]["tokens_out"] == first["totals"]["tokens_out"]  # what was paid for, once


def test_a_repeated_run_asks_nothing_and_no_cache_asks_everything_and_keeps_nothing(
    tmp_path: Path, checker: Callable[[Any], None], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("MESON_TAC[]")) as api:
        code, first = _run(api, capsys, "--out", str(tmp_path / "first"))
        assert code == 0 and len(api.requests) == 6 and first["totals"]["tokens_out"] > 0
        code, again = _run(api, capsys, "--out", str(tmp_path / "again"))
        assert code == 0 and len(api.requests) == 6
        assert again["totals"]["cached_replies"] == 6 and again["totals"]["tokens_out"] == 0
        assert again["pass_at_k"] == first["pass_at_k"]
        code, uncached = _run(api, capsys, "--out", str(tmp_path / "uncached"), "--no-cache")
        assert code == 0 and len(api.requests) == 12 and uncached["totals"]["cached_replies"] == 0
        monkeypatch.setenv("PROVEBENCH_REPLY_CACHE_DIR", str(tmp_path / "empty"))
        _run(api, capsys, "--out", str(tmp_path / "neither"), "--no-cache")
    assert not (tmp_path / "empty").exists()  # --no-cache writes nothing either
    again_records = read_journal(tmp_path / "again" / "attempts.jsonl")
    first_records = read_journal(tmp_path / "first" / "attempts.jsonl")
    assert {r.key: r.prover.raw_reply for r in again_records} == {r.key: r.prover.raw_reply for r in first_records}


def test_the_summary_table_says_how_many_replies_came_from_the_cache(
    tmp_path: Path, checker: Callable[[Any], None], capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("MESON_TAC[]")) as api:
        _run(api, capsys, "--out", str(tmp_path / "first"))
        argv = ["run", "--suite", "hol-light-core", "--prover", "openai", "--model", api.model, "-n", "2"]
        argv += ["--base-url", api.base_url, "--api-key-env", "DOUBLE_API_KEY", "--out", str(tmp_path / "again")]
        assert main([*argv, *(a for p in PROBLEMS for a in ("--problem", p)), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "replies from the cache" in out and "6 (not asked again" in out


def test_an_api_error_is_no_reply_and_is_asked_again(
    tmp_path: Path, checker: Callable[[Any], None], capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIApiDouble(lambda goal, user: fenced("MESON_TAC[]"), faults=["400"]) as api:
        code, first = _run(api, capsys, "--out", str(tmp_path / "first"))
        assert first["by_reason"].get("prover-error") == 1
        code, again = _run(api, capsys, "--out", str(tmp_path / "again"))
        assert len(api.requests) == 7 and again["totals"]["cached_replies"] == 5
        assert again["by_status"] == {"PASS": 6}


def test_samples_sharing_a_request_of_n_choices_are_each_cached_and_a_repeat_asks_nothing(
    tmp_path: Path, checker: Callable[[Any], None], capsys: pytest.CaptureFixture[str]
) -> None:
    replies = iter(["```\nARITH_TAC\n```", "```\nMESON_TAC[]\n```"] * 10)  # one request of two choices per problem
    with OpenAIApiDouble(lambda goal, prompt: next(replies)) as api:
        summaries = []
        for out in ("first", "again"):
            config = tmp_path / f"{out}.yaml"
            config.write_text(
                f"suite: hol-light-core\nn: 2\nproblems: [add_comm, add_assoc]\nout: {tmp_path / out}\n"
                f"prover: {{name: openai, model: {api.model}, base_url: '{api.base_url}', api_key_env: DOUBLE_API_KEY,"
                " api: completions, n: 2, seed: 5}\n"
            )
            assert main(["run", "--config", str(config), "--no-progress", "--json"]) == 0
            printed = capsys.readouterr().out
            summaries.append(json.loads(printed[printed.index("{") :]))
        assert len(api.requests) == 2 and all(r["n"] == 2 for r in api.requests)
    assert [s["totals"]["cached_replies"] for s in summaries] == [0, 4]
    proofs = [
        sorted((r.problem, r.sample, r.prover.proof) for r in read_journal(tmp_path / out / "attempts.jsonl"))
        for out in ("first", "again")
    ]
    assert proofs[0] == proofs[1] and {p for _, _, p in proofs[0]} == {"ARITH_TAC", "MESON_TAC[]"}
