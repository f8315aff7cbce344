"""`provebench provers presets`, and a preset chosen on `run` (--prompt, --api, or prompt: in a config)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from provebench.checking import registry
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.containers import resource_root
from provebench.provers.presets import all_presets
from provebench.suites.load import load_suite
from tests.cli_support import refused_in_one_line
from tests.doubles.openai_api import API_KEY, COMPLETIONS, OpenAIApiDouble
from tests.prompt_suites import PROMPT
from tests.submission_support import arith_passes, scripted_verifiers


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")


def test_provers_presets_lists_each_with_its_system_api_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provers", "presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "system", "API", "source"]
    rows = [line.split() for line in lines[1:-1]]
    assert rows == [
        ["deepseek-prover-v2", "lean4", "completions", all_presets()[0].manifest.sources[0]],
        ["deepseek-prover-v2-cot", "lean4", "chat", "https://huggingface.co/deepseek-ai/DeepSeek-Prover-V2-7B"],
        ["goedel-prover-v2", "lean4", "chat", "https://huggingface.co/Goedel-LM/Goedel-Prover-V2-8B"],
        ["kimina-prover", "lean4", "chat", "https://huggingface.co/AI-MO/Kimina-Prover-72B"],
        ["s2n-bignum-bench", "hol-light", "chat", all_presets()[4].manifest.sources[0]],
    ]
    assert lines[-1] == "Use one with `prompt: NAME` in the prover block of a run config, or `--prompt NAME`."


def test_provers_presets_json_holds_every_source_and_the_extraction(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provers", "presets", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["s2n-bignum-bench"]["apis"] == ["chat", "completions"]
    assert listed["s2n-bignum-bench"]["suite_prompt"]["file"] == "prompt-basic.txt"  # the suite must keep it
    assert listed["kimina-prover"]["suite_prompt"] is None
    assert listed["deepseek-prover-v2"]["extract"]["rule"] == "open-block"
    assert all(len(p["sources"]) >= 2 for p in listed.values())


def _run(tmp_path: Path, *extra: str) -> list[str]:
    out = str(tmp_path / "o")
    return ["run", "--suite", "hol-light-core", "--prover", "openai", "--model", "m", "--out", out, *extra]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            ["--prompt", "kimina-prover"],
            "provebench: error: prompt preset kimina-prover is for lean4 problems, and this suite's are hol-light; "
            "choose a hol-light preset (`provebench provers presets`) or none",
        ),
        (
            ["--prompt", "kimina"],
            "provebench: error: unknown prompt preset 'kimina'; known presets: deepseek-prover-v2, "
            "deepseek-prover-v2-cot, goedel-prover-v2, kimina-prover, s2n-bignum-bench",
        ),
        (["--prompt", "deepseek-prover-v2", "--api", "chat"], "is written for the completions API and has no"),
        (["--prompt", "s2n-bignum-bench", "--repair-rounds", "1"], "the openai prover cannot use repair rounds"),
        (
            ["--prompt", "s2n-bignum-bench"],
            "provebench: error: suite hol-light-core has no prompt file prompt-basic.txt: prompt preset "
            "s2n-bignum-bench sends the benchmark's own prompt, which its import keeps in the suite; import it with "
            "`provebench suites import s2n-bignum --revision NAME`",
        ),
    ],
)
def test_a_preset_that_cannot_serve_the_run_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    line = refused_in_one_line(capsys, _run(tmp_path, *extra), said)
    if said.startswith("provebench:"):
        assert line == said  # the whole line
    assert not (tmp_path / "o").exists()


def test_a_preset_named_in_a_config_file_is_refused_as_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("suite: lean4-core\nprover: {name: openai, model: m, prompt: s2n-bignum-bench}\n")
    refused_in_one_line(
        capsys, ["run", "--config", str(config)], "prompt preset s2n-bignum-bench is for hol-light problems"
    )


def test_a_dry_run_shows_the_preset_and_api_chosen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(tmp_path, "--prompt", "s2n-bignum-bench", "--api", "completions", "--dry-run")) == 0
    shown = capsys.readouterr().out
    assert "prompt: s2n-bignum-bench" in shown and "api: completions" in shown


def _core_with_a_prompt(folder: Path) -> Path:
    """hol-light-core, keeping a prompt file in the benchmark's format (written by the test) as an import would."""
    shutil.copytree(resource_root() / "problems" / "hol-light-core", folder)
    (folder / "prompts").mkdir()
    (folder / "prompts" / "prompt-basic.txt").write_text(PROMPT)
    manifest = yaml.safe_load((folder / "suite.yaml").read_text())
    (folder / "suite.yaml").write_text(yaml.safe_dump({**manifest, "prompts": ["prompt-basic.txt"]}))
    return folder


def test_a_run_with_the_s2n_preset_through_the_completions_double_journals_every_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole run, from the config file to the journal, with a checker double (no container starts here)."""
    suite = load_suite(_core_with_a_prompt(tmp_path / "core"))
    monkeypatch.setattr(registry, "factory_for", lambda _system: scripted_verifiers(arith_passes))
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    replies = iter(["```\nARITH_TAC\n```", "MESON_TAC[]"] * 100)  # a fenced answer, and a bare one
    with OpenAIApiDouble(lambda goal, prompt: next(replies)) as api:
        config = tmp_path / "run.yaml"
        config.write_text(
            f"suite: {suite.path}\nn: 2\nproblems: [add_comm, add_assoc]\nout: {tmp_path / 'run'}\n"
            f"prover: {{name: openai, model: {api.model}, base_url: '{api.base_url}', api_key_env: DOUBLE_API_KEY,"
            " prompt: s2n-bignum-bench, api: completions, n: 2, seed: 5, temperature: 0.6}\n"
        )
        assert main(["run", "--config", str(config), "--no-progress", "--json"]) == 0, capsys.readouterr().err
    assert set(api.paths) == {COMPLETIONS} and len(api.requests) == 2  # one request of two choices per problem
    assert all(r["n"] == 2 and r["seed"] == 5 for r in api.requests)
    # The suite's prompt file, the goal in the benchmark's wording (backquoted) in place of its {query.txt}.
    assert sorted(r["prompt"] for r in api.requests) == sorted(
        PROMPT.replace("{query.txt}", f"`{suite.problem(pid).statement}`") for pid in ("add_comm", "add_assoc")
    )
    records = [json.loads(line) for line in (tmp_path / "run" / "attempts.jsonl").read_text().splitlines()]
    assert sorted((r["problem"], r["sample"], r["prover"]["proof"], r["verdict"]["status"]) for r in records) == [
        ("add_assoc", 0, "ARITH_TAC", "PASS"),
        ("add_assoc", 1, "MESON_TAC[]", "FAIL"),
        ("add_comm", 0, "ARITH_TAC", "PASS"),
        ("add_comm", 1, "MESON_TAC[]", "FAIL"),
    ]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["prover"]["api"] == "completions" and manifest["prover"]["prompt"] == "s2n-bignum-bench"
    assert manifest["prompt_templates"] == {
        "hol-light-core/prompts/prompt-basic.txt": "sha256:" + hashlib.sha256(PROMPT.encode()).hexdigest()
    }
    assert manifest["suite"]["content_hash"] == suite.content_hash  # which covers the prompt file
