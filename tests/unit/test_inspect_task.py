"""The Inspect task's parts that need no checker: registration, prompts, options, the pass@k reducer, and
``import-inspect``'s refusals of what is not a log of it (the real runs: tests/integration/test_inspect_real.py)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from inspect_ai._util.registry import registry_info
from inspect_ai.scorer import Score

from provebench.checking.checked import Checked
from provebench.core.errors import UserError
from provebench.core.model import Reason, Status, Verdict
from provebench.integrations.inspect import proving, registry, rounds
from provebench.integrations.inspect.log_import import read_inspect_log
from provebench.integrations.inspect.options import TaskOptions, proof_task
from provebench.integrations.inspect.tasks import samples
from provebench.provers.registry import make_prover
from provebench.runs.stats import pass_at_k
from tests.cli_support import refused_in_one_line


def test_inspect_finds_the_task_scorer_and_reducer_through_provebenchs_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group="inspect_ai") if ep.name == "provebench"]
    assert ep.value == registry.__name__
    assert registry_info(registry.suite).name == "provebench/suite"
    assert registry_info(registry.proof_check).name == "provebench/proof_check"
    assert registry_info(registry.pass_at).name == "provebench/pass_at"


@pytest.mark.parametrize("prompt_dir", [None, "tests/fixtures/presets"], ids=["generic", "no-such-folder"])
def test_each_samples_input_is_the_first_round_the_openai_prover_sends(
    prompt_dir: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    if prompt_dir is not None:
        with pytest.raises(UserError, match="no prompt templates for hol-light"):
            proof_task(TaskOptions.parse({"prompt_dir": prompt_dir, "limit": 3}))
        return
    task = proof_task(TaskOptions.parse({"categories": "logic,lists"}))
    prover = make_prover("openai", {"model": "m", "base_url": "http://127.0.0.1:9/v1"})
    made = samples(task)
    assert [s.id for s in made] == [p.id for p in task.plan.problems] and len(made) > 5
    for sample, problem in zip(made, task.plan.problems, strict=True):
        sent = prover.request(problem, 0, ())["messages"]
        assert [(m.role, m.text) for m in sample.input] == [(m["role"], m["content"]) for m in sent]  # type: ignore[union-attr]
        assert sample.metadata == {
            "category": problem.category,
            "kind": "theorem",
            "system": "hol-light",
            "suite": "hol-light-core",
            "suite_hash": task.plan.suite.content_hash,
        }


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ({"pass_at": "1,0"}, "provebench/suite: -T pass_at: pass_at values are positive"),
        ({"repair_rounds": -1}, "-T repair_rounds: Input should be greater than or equal to 0"),
        ({"checker": "jit"}, "-T checker: Input should be 'bytecode' or 'native'"),
        ({"suite": "no-such-suite"}, "no-such-suite"),
        ({"problems": "not_a_problem"}, "not_a_problem"),
        ({"categories": "poetry"}, "has no category 'poetry'"),
        ({"prompt": "deepseek-prover-v2"}, "is written for the completions API, and Inspect asks chat models"),
        ({"prompt": "kimina-prover"}, "is for lean4 problems"),
        ({"prompt": "kimina-prover", "suite": "lean4-core", "repair_rounds": 1}, "renders first rounds only"),
    ],
)
def test_a_bad_task_option_is_a_one_line_error_naming_it(args: dict[str, object], said: str) -> None:
    with pytest.raises(UserError) as exc:
        proof_task(TaskOptions.parse(args))
    assert said in str(exc.value) and "\n" not in str(exc.value)


def test_lists_come_as_comma_separated_text_or_as_lists() -> None:
    a = TaskOptions.parse({"problems": "peirce, drinker", "pass_at": "4,1,4"})
    b = TaskOptions.parse({"problems": ["peirce", "drinker"], "pass_at": [1, 4]})
    assert a == b and a.pass_at == (1, 4) and TaskOptions.parse({"pass_at": 2}).pass_at == (2,)


def test_the_pass_at_reducer_is_provebenchs_unbiased_estimator() -> None:
    for n in range(1, 7):
        for c in range(n + 1):
            scores = [Score(value="C")] * c + [Score(value="I")] * (n - c)
            for k in range(1, 8):
                value = proving.pass_at(k)(scores).value
                if k > n:
                    assert isinstance(value, float) and math.isnan(value)
                else:
                    assert value == pass_at_k(n, c, k), (n, c, k)


def test_without_inspect_import_inspect_says_in_one_line_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['inspect_ai'] = None\n"
        "from provebench.cli.main import main\n"
        f"sys.exit(main(['import-inspect', {str(tmp_path / 'x.eval')!r}, '--out', {str(tmp_path / 'run')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "provebench: error: import-inspect needs Inspect: pip install 'provebench[inspect]'"


def test_what_is_not_an_inspect_log_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.json"
    text.write_text('{"hello": 1}')
    archive = tmp_path / "forged.eval"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("header.json", "[1, 2")
    for path in (text, archive, tmp_path / "absent.eval"):
        with pytest.raises(UserError) as exc:
            read_inspect_log(path)
        assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    refused_in_one_line(capsys, ["import-inspect", str(archive), "--out", str(tmp_path / "run")], "not a readable")
    assert not (tmp_path / "run").exists()


def test_a_check_that_ends_in_error_fails_the_sample_instead_of_scoring_it(monkeypatch: pytest.MonkeyPatch) -> None:
    task = proof_task(TaskOptions.parse({"problems": "add_comm"}))
    problem = task.problem("add_comm")

    class Failing:
        async def acheck(self, *_: object) -> Checked:
            return Checked(Verdict(status=Status.ERROR, reason=Reason.CHECKER_UNAVAILABLE, messages=("gone",)), 2)

    monkeypatch.setattr(rounds, "engine_for", lambda _task: Failing())
    with pytest.raises(rounds.CheckerFailed, match="add_comm: no verdict .checker-unavailable.: gone"):
        asyncio.run(rounds.checked(task, problem, "ARITH_TAC"))
    no_proof = asyncio.run(rounds.checked(task, problem, None))  # no proof: a failure, and no check at all
    assert (no_proof.status, no_proof.reason) == (Status.FAIL, Reason.NO_PROOF)
