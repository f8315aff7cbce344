"""Run configs: YAML plus flag overrides, one-line errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.runs.config import build_config, read_config_file


def test_flags_override_the_file_and_a_new_prover_drops_the_old_settings(tmp_path: Path) -> None:
    f = tmp_path / "run.yaml"
    f.write_text("suite: hol-light-core\nn: 4\nprover:\n  name: openai\n  model: m\n  temperature: 0.5\n")
    base = read_config_file(f)
    c = build_config(dict(base), {"n": 8}, str(f))
    assert (c.n, c.prover.name, c.prover.settings()) == (8, "openai", {"model": "m", "temperature": 0.5})
    c = build_config(dict(base), {"prover": {"model": "other"}}, str(f))
    assert c.prover.settings() == {"model": "other", "temperature": 0.5}
    c = build_config(dict(base), {"prover": {"name": "baseline"}}, str(f))
    assert (c.prover.name, c.prover.settings()) == ("baseline", {})
    assert c.ks == [1, 2, 3, 4]


def test_relative_paths_in_a_config_file_are_relative_to_the_file(tmp_path: Path) -> None:
    f = tmp_path / "cfg" / "run.yaml"
    f.parent.mkdir()
    f.write_text("suite: s\nproblems_file: ids.txt\nprover: {name: replay, answers: a.csv}\n")
    c = build_config(read_config_file(f), {}, str(f))
    assert c.problems_file == f.parent / "ids.txt"
    assert c.prover.settings()["answers"] == str(f.parent / "a.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("suite: s\nsamples: 3\n", r"run.yaml: 'samples': Extra inputs are not permitted"),
        ("suite: s\nn: 0\n", r"'n': Input should be greater than or equal to 1"),
        ("suite: s\nn: 2\nk: [1, 3]\n", r"k values must be between 1 and n=2 \(got \[3\]\)"),
        ("suite: s\nn: lots\n", r"'n': Input should be a valid integer"),
        ("suite: [unclosed\n", r"invalid YAML at line 2"),
        ("- a list\n", r"a run config is a mapping"),
        ("n: 3\n", r"say which suite to run"),
        ("suite: s\nprover: {name: 3}\n", r"'prover.name': Input should be a valid string"),
    ],
)
def test_bad_configs_give_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "run.yaml"
    f.write_text(text)
    with pytest.raises(UserError, match=message) as info:
        build_config(read_config_file(f), {}, str(f))
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="config file not found"):
        read_config_file(tmp_path / "nope.yaml")


def test_the_example_config_is_valid() -> None:
    from provebench.provers.registry import make_prover

    f = Path(__file__).resolve().parents[2] / "examples" / "run-openai.yaml"
    c = build_config(read_config_file(f), {}, str(f))
    assert (c.suite, c.n, c.ks, c.repair_rounds) == ("hol-light-core", 8, [1, 2, 4, 8], 1)
    assert make_prover(c.prover.name, c.prover.settings()).name == "openai"
