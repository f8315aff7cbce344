"""The reply cache: its key, its files under two writers and a killed one, and its entries as hostile input.

Real files throughout; the writers are real processes (``tests/cache_workers.py``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt
from provebench.provers.openai_chat import OpenAIChatProver, OpenAISettings
from provebench.provers.reply_cache import MAX_ENTRY_BYTES, ReplyCache, cache_key, canonical_json
from provebench.suites.load import load_suite
from tests import cache_workers
from tests.prompt_suites import prompt_suite

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="!n. n + 0 = n", timeout_s=5, checker_image="x")
BASE: dict[str, Any] = {"model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": None}
REPAIR = PreviousAttempt(proof="ARITH_TAC", status="FAIL", reason="tactic-failed", messages=("no",))

# What the endpoint is asked: each changes the key.
ASKED: dict[str, Any] = {
    "model": "other-model",
    "api": "completions",
    "prompt": "s2n-bignum-bench",
    "temperature": 0.5,
    "top_p": 0.9,
    "max_tokens": 99,
    "n": 2,
    "seed": 1,
    "stop": ["</proof>"],
    "extra_body": {"top_k": 20},
}
# How provebench asks, and what it records: none changes the key.
NOT_ASKED: dict[str, Any] = {
    "base_url": "http://127.0.0.1:10/v1",
    "api_key_env": "SOME_KEY",
    "request_timeout_s": 7.0,
    "max_retries": 1,
    "backoff_initial_s": 0.5,
    "backoff_max_s": 2.0,
    "retry_after_max_s": 3.0,
    "prices": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
    "stream": True,  # how the reply comes, not what it is
}


@pytest.fixture(autouse=True)
def _key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_KEY", "sk-not-sent-anywhere")


def _key(
    settings: dict[str, Any], problem: Problem = PROBLEM, sample: int = 0, history: tuple[PreviousAttempt, ...] = ()
) -> str:
    prover = OpenAIChatProver.from_settings({**BASE, **settings})
    prover.prepare([problem])
    return cache_key(prover.request(problem, sample, history), sample)


def test_every_setting_of_the_openai_prover_is_known_to_change_the_key_or_not() -> None:
    # A setting added to the prover must be put in one list or the other here (and the request must carry it).
    assert set(OpenAISettings.model_fields) == set(ASKED) | set(NOT_ASKED) | {"prompt_dir"}


@pytest.mark.parametrize("name", sorted(ASKED))
def test_the_key_changes_with_the_model_and_each_sampling_parameter(name: str, tmp_path: Path) -> None:
    problem = PROBLEM
    if name == "prompt":  # the s2n-bignum-bench preset sends the suite's own prompt file: a suite that has one
        problem = load_suite(prompt_suite(tmp_path / "suite")).problems[0]
    assert _key({name: ASKED[name]}, problem) != _key({}, problem)


def test_the_key_changes_with_the_messages_and_the_sample_index(tmp_path: Path) -> None:
    folder = tmp_path / "prompts" / "hol-light"
    folder.mkdir(parents=True)
    (folder / "system.j2").write_text("You prove theorems.")
    (folder / "user.j2").write_text("Prove {{ problem.statement }}.")
    other = PROBLEM.model_copy(update={"statement": "!n. 0 + n = n"})
    keys = [
        _key({}),
        _key({"prompt_dir": str(tmp_path / "prompts")}),
        _key({}, problem=other),
        _key({}, history=(REPAIR,)),
        _key({}, sample=1),
    ]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", sorted(NOT_ASKED))
def test_the_key_does_not_change_with_how_the_request_is_sent(name: str) -> None:
    assert _key({name: NOT_ASKED[name]}) == _key({})


def test_the_key_is_the_same_for_the_same_request_in_another_order() -> None:
    assert cache_key({"a": 1, "b": [1, 2]}, 0) == cache_key({"b": [1, 2], "a": 1}, 0)
    assert cache_key({"a": 1}, 0) != cache_key({"a": 1.5}, 0)


def test_a_reply_stored_is_read_back_and_an_unknown_request_is_a_miss(tmp_path: Path) -> None:
    cache = ReplyCache(tmp_path / "cache")
    assert cache.get({"model": "m"}, 0) is None  # no folder yet: a miss, nothing made
    assert not (tmp_path / "cache").exists()
    cache.put({"model": "m"}, 0, {"raw_reply": "é ```x```"})
    assert cache.get({"model": "m"}, 0) == {"raw_reply": "é ```x```"}
    assert cache.get({"model": "m"}, 1) is None


def test_two_processes_writing_the_same_keys_leave_whole_entries_and_never_show_a_torn_one(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    size = 50_000
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        bad = pool.starmap(cache_workers.write_and_read, [(str(folder), "A", size, 2), (str(folder), "B", size, 2)])
    assert bad == [0, 0]
    cache = ReplyCache(folder)
    for key in range(cache_workers.KEYS):
        got = cache.get(cache_workers.request(key), 0)
        assert got in (cache_workers.reply(key, "A", size), cache_workers.reply(key, "B", size))
    assert not list(folder.rglob("*.tmp"))  # every temporary file was renamed over its entry


def _kill_mid_write(folder: Path, size: int) -> list[Path]:
    """Start a writer, SIGKILL it as soon as a temporary file exists; the temporary files it left."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-m", "tests.cache_workers", str(folder), str(size)], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not list(folder.rglob("*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.001)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    return list(folder.rglob("*.tmp"))


def test_a_writer_killed_mid_write_leaves_no_entry_that_reads_as_a_reply(tmp_path: Path) -> None:
    size = 8 << 20  # entries of 8 MB: a write takes long enough to be caught in the middle
    whole = len(canonical_json(cache_workers.reply(0, "A", size)))
    folder = tmp_path / "cache"
    torn: list[Path] = []
    for _ in range(5):  # a kill that lands between a write and its rename leaves a whole file: try again
        torn = [p for p in _kill_mid_write(folder, size) if p.stat().st_size < whole]
        if torn:
            break
    assert torn, "the writer was never caught mid-write"
    cache = ReplyCache(folder)
    for key in range(4):
        got = cache.get(cache_workers.request(key), 0)
        assert got is None or got == cache_workers.reply(key, "A", size)
    # Had the half-written file been renamed over its entry (its data lost in a power cut), it reads as a miss.
    torn_key = torn[0].name.split(".")[1]
    os.replace(torn[0], torn[0].parent / f"{torn_key}.json")
    requests = [cache_workers.request(k) for k in range(4)]
    assert [cache.get(r, 0) for r in requests if cache_key(r, 0) == torn_key] == [None]


def _entry_path(cache: ReplyCache, request: dict[str, Any], sample: int = 0) -> Path:
    key = cache_key(request, sample)
    return cache.folder / key[:2] / f"{key}.json"


def _stored(tmp_path: Path) -> tuple[ReplyCache, dict[str, Any], Path]:
    cache = ReplyCache(tmp_path / "cache")
    request = {"model": "m", "messages": [{"role": "user", "content": "prove it"}]}
    cache.put(request, 0, {"raw_reply": "ARITH_TAC"})
    return cache, request, _entry_path(cache, request)


def _miss_said(cache: ReplyCache, request: dict[str, Any], caplog: pytest.LogCaptureFixture, why: str) -> None:
    caplog.clear()
    assert cache.get(request, 0) is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and why in lines[0] and "\n" not in lines[0], lines


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda e: b"", "not an entry"),
        (lambda e: e[: len(e) // 2], "not an entry"),
        (lambda e: b"\x00" * len(e), "not an entry"),
        (lambda e: e.replace(b"ARITH_TAC", b"MESON_TAC"), "does not match its hash"),
        (lambda e: e.replace(b"prove it", b"prove that"), "does not match its hash"),
        (lambda e: e.replace(b'"reply_sha256"', b'"exec"'), "not an entry"),
        (lambda e: e.replace(b'"sample":0', b'"sample":1'), "does not match its hash"),
        (lambda e: b"[" * 100_000 + b"]" * 100_000, "not an entry"),
        (lambda e: e.replace(b'"ARITH_TAC"', b"NaN"), "does not match its hash"),
        (lambda e: e.replace(b"provebench-reply-cache/1", b"provebench-reply-cache/0"), "another key or format"),
    ],
)
def test_a_damaged_or_forged_entry_is_a_miss_said_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Any, why: str
) -> None:
    cache, request, path = _stored(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    _miss_said(cache, request, caplog, why)


def test_an_entry_copied_under_another_key_is_a_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache, request, path = _stored(tmp_path)
    other = {**request, "temperature": 0.1}
    target = _entry_path(cache, other)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
    _miss_said(cache, other, caplog, "another key")


def test_nothing_outside_the_cache_folder_is_read_through_a_symlink(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache, request, path = _stored(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    moved = outside / path.name
    shutil.move(path, moved)  # a whole, valid entry, but outside the folder
    path.symlink_to(moved)
    _miss_said(cache, request, caplog, "symlink")
    path.unlink()
    fan_out = path.parent
    shutil.move(fan_out, outside / "fan")
    fan_out.symlink_to(outside / "fan")
    shutil.move(moved, outside / "fan" / path.name)
    _miss_said(cache, request, caplog, "not a folder of the cache")
    cache.put(request, 0, {"raw_reply": "new"})  # nor written through one
    assert json.loads((outside / "fan" / path.name).read_text())["reply"] == {"raw_reply": "ARITH_TAC"}


def test_a_fifo_a_folder_or_a_huge_file_in_an_entrys_place_is_a_miss_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache, request, path = _stored(tmp_path)
    path.unlink()
    os.mkfifo(path)  # no writer: a blocking open would wait for ever
    _miss_said(cache, request, caplog, "not a regular file")
    path.unlink()
    path.mkdir()
    _miss_said(cache, request, caplog, "directory")
    path.rmdir()
    with path.open("wb") as f:
        f.truncate(MAX_ENTRY_BYTES + 1)  # sparse: nothing is allocated, and nothing must be read
    _miss_said(cache, request, caplog, "over")


def test_a_cache_that_cannot_be_written_is_said_and_the_reply_still_given(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder goes")
    cache = ReplyCache(blocker)
    cache.put({"model": "m"}, 0, {"raw_reply": "x"})
    assert cache.get({"model": "m"}, 0) is None
    assert any("cannot store a reply" in r.getMessage() for r in caplog.records)


def test_canonical_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError):
        canonical_json({"t": float("nan")})
