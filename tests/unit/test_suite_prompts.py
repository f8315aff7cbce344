"""A benchmark's own prompt kept by the suite (``prompts/``, hashed with it) and sent by a preset's ``suite_prompt``.

The prompt files here are written by the tests in the benchmark's format (tests/prompt_suites.py); the real
benchmark's file is compared in tests/integration/test_s2n_prompt_real.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from provebench.core.errors import UserError
from provebench.provers import presets
from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.registry import make_prover
from provebench.suites.folder import MAX_PROMPT_BYTES
from provebench.suites.load import load_suite
from tests.doubles.openai_api import API_KEY, CHAT, COMPLETIONS, OpenAIApiDouble
from tests.prompt_suites import PROMPT, QUERIES, prompt_suite


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)


def _prover(double: OpenAIApiDouble | None = None, **settings: Any) -> OpenAIChatProver:
    where = {"base_url": double.base_url} if double else {}
    model = double.model if double else "m"
    prover = make_prover(
        "openai", {"model": model, "api_key_env": "DOUBLE_API_KEY", "prompt": "s2n-bignum-bench", **where, **settings}
    )
    assert isinstance(prover, OpenAIChatProver)
    return prover


def _sent(folder: Path, **settings: Any) -> tuple[list[str], OpenAIChatProver]:
    """What the preset sends for each problem of the suite in ``folder``: the user message, or the raw prompt."""
    suite = load_suite(folder)
    with OpenAIApiDouble(lambda goal, asked: "```\nARITH_TAC\n```") as api:
        prover = _prover(api, **settings)
        prover.prepare(suite.problems)

        async def go() -> None:
            try:
                for problem in suite.problems:
                    await prover.attempt(problem, 0, ())
            finally:
                await prover.aclose()

        asyncio.run(go())
    texts = []
    for path, request in zip(api.paths, api.requests, strict=True):
        if path == COMPLETIONS:
            texts.append(request["prompt"])
        else:
            assert path == CHAT
            (message,) = request["messages"]  # one user message: the benchmark sends no system message
            assert message["role"] == "user"
            texts.append(message["content"])
    return texts, prover


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_the_preset_sends_the_suites_prompt_file_with_the_query_in_place_of_its_placeholder(
    tmp_path: Path, api: str
) -> None:
    sent, prover = _sent(prompt_suite(tmp_path / "suite"), api=api)
    # The benchmark's own query (parentheses and all), and a computed goal's expression, as they are.
    assert sent == [PROMPT.replace("{query.txt}", QUERIES[pid]) for pid in ("ADD_SYM_GOAL", "COMPUTED")]
    assert sent[0] == (
        "Prove the HOL Light goal below. Answer with tactics only, joined by THEN.\n\n<Query>\n\n"
        "```\n(`!m n. m + n = n + m`)\n```\n"
    )  # every byte of the file, the trailing newline too
    # Recorded in the run's manifest beside the templates' hashes: the hash of the very text sent.
    assert prover.template_hashes() == {
        "s2n-bignum/prompts/prompt-basic.txt": "sha256:" + hashlib.sha256(PROMPT.encode()).hexdigest()
    }


def test_a_goal_without_the_benchmarks_query_is_sent_backquoted(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite", problems=[{"id": "T", "statement": "T"}])
    sent, _ = _sent(folder)
    assert sent == [PROMPT.replace("{query.txt}", "`T`")]


def test_jinja_in_the_file_or_the_query_is_sent_as_it_is_never_evaluated(tmp_path: Path) -> None:
    hostile = (
        "{{ 6 * 7 }} {% for x in [1, 2] %}{{ x }}{% endfor %} {# gone? #}\n"
        "{{ lipsum.__globals__['os'].popen('touch pwned').read() }}\n"
        "{% include '/etc/passwd' %}\n{query.txt} and again {query.txt}\n"
    )
    query = "`{{ 1 + 1 }} = {query.txt}`"  # a query that holds the placeholder is not replaced again
    folder = prompt_suite(tmp_path / "suite", hostile, [{"id": "P", "statement": "x", "original_statement": query}])
    sent, _ = _sent(folder)
    assert sent == [hostile.replace("{query.txt}", query)]
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_a_suite_without_the_file_is_one_line_naming_it_and_the_import(tmp_path: Path) -> None:
    suite = load_suite(prompt_suite(tmp_path / "suite", prompt=None, declared=()))
    with pytest.raises(UserError) as caught:
        _prover().prepare(suite.problems)
    assert str(caught.value) == (
        "suite s2n-bignum has no prompt file prompt-basic.txt: prompt preset s2n-bignum-bench sends the benchmark's "
        "own prompt, which its import keeps in the suite; import it with "
        "`provebench suites import s2n-bignum --revision NAME`"
    )


def test_a_file_in_prompts_that_suite_yaml_does_not_name_is_not_sent(tmp_path: Path) -> None:
    """Only a file the suite records is in its hash: an unrecorded one is as good as missing."""
    suite = load_suite(prompt_suite(tmp_path / "suite", declared=()))
    assert suite.problems[0].prompt_files == ()
    with pytest.raises(UserError, match="^suite s2n-bignum has no prompt file prompt-basic.txt: "):
        _prover().prepare(suite.problems)


def test_the_suites_hash_covers_its_prompt_file_but_not_where_it_lies(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite")
    suite = load_suite(folder)
    assert suite.problems[0].prompt_files == (str(folder.resolve() / "prompts" / "prompt-basic.txt"),)
    moved = tmp_path / "elsewhere" / "suite"
    shutil.copytree(folder, moved)
    assert load_suite(moved).content_hash == suite.content_hash
    (folder / "prompts" / "prompt-basic.txt").write_text(PROMPT.replace("tactics", "tactic"))
    assert load_suite(folder).content_hash != suite.content_hash
    without = load_suite(prompt_suite(tmp_path / "without", prompt=None, declared=()))
    assert without.content_hash != suite.content_hash


def test_a_suite_without_prompt_files_hashes_as_before_they_came(tmp_path: Path) -> None:
    """No `prompts` key or an empty one: the same hash, with nothing of prompts in it (the committed boards' pins
    of the bundled suites, checked in test_committed_boards.py, hold)."""
    a = load_suite(prompt_suite(tmp_path / "a", prompt=None, declared=()))
    b = load_suite(prompt_suite(tmp_path / "b", prompt=None, declared=(), prompts=[]))
    assert a.content_hash == b.content_hash


def test_a_prompt_file_leading_out_of_the_suite_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(PROMPT)
    folder = prompt_suite(tmp_path / "suite", prompt=None)
    (folder / "prompts").mkdir()
    (folder / "prompts" / "prompt-basic.txt").symlink_to(outside)
    with pytest.raises(UserError, match=r"suite.yaml: field 'prompts': 'prompts/prompt-basic.txt' is outside the "):
        load_suite(folder)
    # The folder itself a symlink out: refused the same way.
    (folder / "prompts" / "prompt-basic.txt").unlink()
    (folder / "prompts").rmdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "prompt-basic.txt").write_text(PROMPT)
    (folder / "prompts").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UserError, match="is outside the suite folder"):
        load_suite(folder)


def test_a_prompt_file_swapped_for_a_symlink_out_after_the_suite_loaded_is_refused_when_read(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite")
    suite = load_suite(folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("a private key {query.txt}\n")
    (folder / "prompts" / "prompt-basic.txt").unlink()
    (folder / "prompts" / "prompt-basic.txt").symlink_to(secret)
    with pytest.raises(UserError, match="'prompts/prompt-basic.txt' is outside the suite folder"):
        _prover().prepare(suite.problems)


def test_a_symlink_inside_the_suite_folder_is_followed(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite", prompt=None)
    (folder / "prompts").mkdir()
    (folder / "prompts" / "basic-v2.txt").write_text(PROMPT)
    (folder / "prompts" / "prompt-basic.txt").symlink_to("basic-v2.txt")
    sent, _ = _sent(folder)
    assert sent[0] == PROMPT.replace("{query.txt}", QUERIES["ADD_SYM_GOAL"])


def test_a_huge_or_special_prompt_file_is_refused_unread(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite", prompt=None)
    (folder / "prompts").mkdir()
    with (folder / "prompts" / "prompt-basic.txt").open("wb") as f:
        f.truncate(MAX_PROMPT_BYTES + 1)  # sparse: nothing is written, and nothing must be read
    with pytest.raises(UserError, match=f"{MAX_PROMPT_BYTES + 1} bytes is over the limit of {MAX_PROMPT_BYTES} bytes"):
        load_suite(folder)
    (folder / "prompts" / "prompt-basic.txt").unlink()
    os.mkfifo(folder / "prompts" / "prompt-basic.txt")  # a reader would wait for a writer for ever
    with pytest.raises(UserError, match="not a regular file"):
        load_suite(folder)


def test_a_file_grown_huge_after_the_suite_loaded_is_refused_when_read(tmp_path: Path) -> None:
    folder = prompt_suite(tmp_path / "suite")
    suite = load_suite(folder)
    with (folder / "prompts" / "prompt-basic.txt").open("r+b") as f:
        f.truncate(MAX_PROMPT_BYTES + 1)
    with pytest.raises(UserError, match="over the limit"):
        _prover().prepare(suite.problems)


@pytest.mark.parametrize(
    ("prompt", "said"),
    [
        ("No query here.\n", "prompt-basic.txt: has no {query.txt}, where the problem's query goes"),
        (b"\xff{query.txt}\n", "prompt-basic.txt: not UTF-8 text (byte 0)"),
    ],
)
def test_a_prompt_file_the_query_cannot_go_into_is_refused(tmp_path: Path, prompt: str | bytes, said: str) -> None:
    suite = load_suite(prompt_suite(tmp_path / "suite", prompt))
    with pytest.raises(UserError, match=re.escape(said) + "$"):
        _prover().prepare(suite.problems)


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        (("../suite.yaml",), "suite.yaml: field 'prompts.0': String should match pattern"),
        ((".hidden",), "field 'prompts.0': String should match pattern"),
        (("prompt-basic.txt", "prompt-basic.txt"), "field 'prompts': 'prompt-basic.txt' is named twice"),
        (("prompt-other.txt",), "prompt-other.txt: suite prompt file not found"),
    ],
)
def test_the_prompt_files_suite_yaml_names_are_plain_names_of_files_it_has(
    tmp_path: Path, declared: tuple[str, ...], said: str
) -> None:
    with pytest.raises(UserError, match=said) as caught:
        load_suite(prompt_suite(tmp_path / "suite", declared=declared))
    assert "\n" not in str(caught.value)


def test_a_preset_with_a_suite_prompt_carries_no_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = presets.PRESETS / "s2n-bignum-bench"
    assert sorted(p.name for p in bundled.iterdir()) == ["preset.yaml"]  # the benchmark's text is not provebench's
    copy = tmp_path / "presets" / "s2n-bignum-bench"
    shutil.copytree(bundled, copy)
    (copy / "user.j2").write_text("{{ problem.statement }}")
    monkeypatch.setattr(presets, "PRESETS", tmp_path / "presets")
    with pytest.raises(UserError, match=r"s2n-bignum-bench: a preset with suite_prompt sends the suite's file, so "):
        presets.load_preset("s2n-bignum-bench")
    manifest = yaml.safe_load((bundled / "preset.yaml").read_text())
    assert manifest["suite_prompt"] == {
        "file": "prompt-basic.txt",
        "placeholder": "{query.txt}",
        "imported_by": "provebench suites import s2n-bignum --revision NAME",
    }
