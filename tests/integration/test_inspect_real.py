"""provebench/suite inside the real Inspect, with Inspect's own mock provider and the real HOL Light checker.

``mockllm/model`` answers from a script (correct proofs, wrong ones, one that cheats, one with no code
block), its token usage given so that it counts nothing with tiktoken (which would download an encoding).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model

from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.containers.recipes import LABEL_PREFIX
from provebench.core.errors import UserError
from provebench.core.model import Problem
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.integrations.inspect import checkers
from provebench.integrations.inspect.log_import import import_log, plan_import, read_inspect_log
from provebench.integrations.inspect.options import TaskOptions, proof_task
from provebench.integrations.inspect.proving import chat_messages
from provebench.provers.api import PreviousAttempt
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.runs.stats import pass_at_k

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
EPOCHS = 3
EVAL_ARGS = {"pass_at": "1,2,3", "checkers": 1}
# The replies of five problems, one per epoch (which epoch gets which is the scheduler's: the counts are
# fixed); every other problem of the suite is answered with its reference proof, so that the run is whole.
SCRIPT: dict[str, list[str]] = {
    "excluded_middle": ["```\nMESON_TAC[]\n```", "```\nARITH_TAC\n```", "Proof:\n```ocaml\nMESON_TAC[]\n```"],
    "contrapositive": ["```\nARITH_TAC\n```"] * 3,
    "drinker": ["```\nCHEAT_TAC\n```"] * 3,
    "de_morgan_and": ["I cannot prove this."] * 3,
    "peirce": ["```\nREFL_TAC\n```", "```\nREFL_TAC\n```", "```\nMESON_TAC[]\n```"],
}
SCRIPTED_CORRECT = {"excluded_middle": 2, "contrapositive": 0, "drinker": 0, "de_morgan_and": 0, "peirce": 1}


def _correct() -> dict[str, int]:
    """Correct epochs of each problem of the suite."""
    return {p.id: SCRIPTED_CORRECT.get(p.id, EPOCHS) for p in proof_task(TaskOptions.parse({})).plan.problems}


def _text(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text for m in messages)


def scripted(script: dict[str, list[str]], seen: list[list[ChatMessage]] | None = None) -> Any:
    """A mockllm output function: the problem's next scripted reply, else its reference proof."""
    task = proof_task(TaskOptions.parse({}))
    first = {_text(chat_messages(task.prompts.chat(p, ()))): p for p in task.plan.problems}
    left = {pid: list(replies) for pid, replies in script.items()}

    def output(messages: list[ChatMessage], *_: Any) -> ModelOutput:
        if seen is not None:
            seen.append(list(messages))
        text = _text(messages)
        problem = first.get(text) or next(p for p in task.plan.problems if p.id in left and p.statement in text)
        reply = left[problem.id].pop(0) if problem.id in left else f"```\n{problem.reference_proof}\n```"
        out = ModelOutput.from_content("mockllm/model", reply)
        out.usage = ModelUsage(input_tokens=len(text) // 4, output_tokens=9, total_tokens=len(text) // 4 + 9)
        return out

    return output


@pytest.fixture(scope="module", autouse=True)
def _stop_checkers() -> Iterator[None]:
    yield
    checkers.close_engines()  # the module's evals share one engine; its checkers stop with the module


@dataclass(frozen=True)
class Evaluated:
    log: EvalLog
    path: Path
    root: Path


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    root = tmp_path_factory.mktemp("inspect")
    model = get_model("mockllm/model", custom_outputs=scripted(SCRIPT))
    (log,) = eval(
        "provebench/suite", model=model, task_args=EVAL_ARGS, epochs=EPOCHS, display="none", log_dir=str(root)
    )
    assert log.status == "success", log.error
    return Evaluated(log, Path(log.location), root)


def _scores(log: EvalLog) -> dict[tuple[str, int], Any]:
    return {(str(s.id), s.epoch - 1): s.scores["proof_check"] for s in log.samples or []}


def test_scores_are_the_verdicts_a_replay_run_gives_the_same_answers(
    evaluated: Evaluated, settings: Settings, shared_verifier_factory: Factory
) -> None:
    scores = _scores(evaluated.log)
    assert len(scores) == len(_correct()) * EPOCHS
    answers = evaluated.root / "answers.jsonl"
    rows = []
    for (pid, _epoch), score in sorted(scores.items()):
        reply = score.metadata["rounds"][-1]["reply"]
        rows.append({"problem": pid, "answer": score.answer or ""})
        assert reply in SCRIPT.get(pid, [f"```\n{score.answer}\n```"])
    answers.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = build_config({"suite": "hol-light-core", "n": EPOCHS}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("replay", {"answers": str(answers)})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(evaluated.root / "replayed", plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), shared_verifier_factory)
    replayed = {(r.problem, r.sample): r.verdict for r in rundir.records()}
    for key, score in scores.items():
        verdict = replayed[key]
        assert (score.metadata["status"], score.metadata["reason"]) == (verdict.status.value, verdict.reason.value)
        assert score.value == ("C" if verdict.passed else "I")
    reasons = Counter(s.metadata["reason"] for s in scores.values())
    assert (
        reasons["forbidden-construct"] == EPOCHS
        and reasons["no-proof"] == EPOCHS
        and reasons["proved"] == 3 + 45 * EPOCHS
    )
    checker = scores[("excluded_middle", 0)].metadata["verdict"]["checker"]
    assert checker["digest"].startswith("sha256:") and checker["system"] == "hol-light"


def test_pass_at_k_over_epochs_is_provebenchs_estimator(evaluated: Evaluated) -> None:
    assert evaluated.log.results is not None
    metrics = {s.reducer: s.metrics["accuracy"].value for s in evaluated.log.results.scores}
    for k in (1, 2, 3):
        expected = sum(pass_at_k(EPOCHS, c, k) for c in _correct().values()) / len(_correct())
        assert math.isclose(metrics[f"provebench/pass_at_{k}"], expected), k
    assert math.isclose(metrics["mean"], sum(_correct().values()) / (EPOCHS * len(_correct())))


def test_the_checkers_outlive_samples_and_epochs(evaluated: Evaluated) -> None:
    # The eval's task (made once per process: the same settings), and the one engine its 150 samples used.
    engine = checkers.open_engine(proof_task(TaskOptions.parse(EVAL_ARGS)))
    assert engine is not None
    (context,) = engine.status()
    assert context.restarts == 0 and context.checks >= 140  # every proof checked on the one warm context


def test_the_log_imports_submits_and_a_fresh_board_accepts_it(
    evaluated: Evaluated, settings: Settings, shared_verifier_factory: Factory
) -> None:
    log = read_inspect_log(evaluated.path)
    planned = plan_import(log, evaluated.root / "imported", settings)
    imported = import_log(planned, settings, RunHooks(), shared_verifier_factory)
    assert imported.differs == [] and imported.attempts == len(_correct()) * EPOCHS
    summary = imported.summary
    assert summary.complete and summary.samples_per_problem == EPOCHS
    assert summary.solved == sum(1 for c in _correct().values() if c) == 47
    for k in (1, 2, 3):
        expected = sum(pass_at_k(EPOCHS, c, k) for c in _correct().values()) / len(_correct())
        assert math.isclose(summary.pass_at_k[k], expected, abs_tol=1e-6)  # summaries keep 6 digits
    manifest = imported.rundir.read_manifest()
    assert manifest.prover["imported_from"] == str(evaluated.path) and manifest.prover["model"] == "mockllm/model"
    packed = evaluated.root / "entry.tar.gz"
    bundle.pack(imported.rundir, packed, bundle.Submitter(name="Mock", contact="ci@example.org", open_data="full"))
    entry = add_entry(packed, evaluated.root / "board", settings, make_verifier=shared_verifier_factory)
    assert entry.stats.solved == summary.solved and entry.stats.pass_at_k == summary.pass_at_k
    assert entry.reverification.reproduced == entry.reverification.checked > 0
    cli = [sys.executable, "-m", "provebench.cli", "run", "--resume", str(imported.rundir.path)]
    resumed = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 2 and "imported from the Inspect log" in resumed.stderr


def _rewritten(evaluated: Evaluated, name: str, change: Callable[[EvalLog], None]) -> Path:
    log = read_eval_log(str(evaluated.path))
    change(log)
    out = evaluated.root / name
    write_eval_log(log, str(out))
    return out


def _forge_scores(log: EvalLog) -> None:
    """Every wrong answer's score, and its rounds' verdicts, made to say it passed."""
    for s in log.samples or []:
        score = s.scores["proof_check"]
        if score.value == "I":
            score.value = "C"
            score.metadata["status"], score.metadata["reason"] = "PASS", "proved"
            for r in score.metadata["rounds"]:
                if r.get("verdict"):
                    r["verdict"].update(status="PASS", reason="proved", messages=[])


def test_a_log_with_forged_scores_gains_nothing_on_import(
    evaluated: Evaluated, settings: Settings, shared_verifier_factory: Factory
) -> None:
    forged = read_inspect_log(_rewritten(evaluated, "forged.eval", _forge_scores))
    imported = import_log(
        plan_import(forged, evaluated.root / "forged-run", settings), settings, RunHooks(), shared_verifier_factory
    )
    wrong = sum(EPOCHS - c for c in _correct().values())
    assert len(imported.differs) == wrong and all("the log scored it correct" in d for d in imported.differs)
    assert imported.summary.solved == 47 and imported.summary.by_status.get("PASS") == sum(_correct().values())


def _set_hash(log: EvalLog) -> None:
    for s in log.samples or []:
        s.metadata["suite_hash"] = "sha256:" + "0" * 64


def _drop_rounds(log: EvalLog) -> None:
    (log.samples or [])[0].scores["proof_check"].metadata.pop("rounds")


def test_a_log_that_does_not_fit_the_suite_on_disk_is_a_one_line_error(
    evaluated: Evaluated, settings: Settings
) -> None:
    stale = read_inspect_log(_rewritten(evaluated, "stale.eval", _set_hash))
    with pytest.raises(UserError, match="the eval ran on suite hol-light-core sha256:000000000000, and it is"):
        plan_import(stale, evaluated.root / "never", settings)
    with pytest.raises(UserError, match="its score has no rounds"):
        read_inspect_log(_rewritten(evaluated, "unscored.eval", _drop_rounds))
    other = eval(
        Task(dataset=[Sample(input="hi", target="x")]),
        model=get_model("mockllm/model", custom_outputs=[_plain("x")]),
        display="none",
        log_dir=str(evaluated.root / "other"),
    )[0]
    with pytest.raises(UserError, match="only logs of provebench/suite import"):
        read_inspect_log(Path(other.location))
    assert not (evaluated.root / "never").exists()


def _plain(text: str) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return out


def test_repair_rounds_ask_again_with_provebenchs_repair_prompt(tmp_path: Path) -> None:
    seen: list[list[ChatMessage]] = []
    script = {"excluded_middle": ["```\nARITH_TAC\n```", "```\nMESON_TAC[]\n```"]}
    model = get_model("mockllm/model", custom_outputs=scripted(script, seen))
    args = {"problems": "excluded_middle", "repair_rounds": 2, "checkers": 1}
    (log,) = eval("provebench/suite", model=model, task_args=args, display="none", log_dir=str(tmp_path))
    (sample,) = log.samples or []
    rounds = sample.scores["proof_check"].metadata["rounds"]
    assert [r["verdict"]["status"] for r in rounds] == ["FAIL", "PASS"]  # no third round once it passed
    task = proof_task(TaskOptions.parse(args))
    problem = task.problem("excluded_middle")
    failed = rounds[0]["verdict"]
    history = (PreviousAttempt("ARITH_TAC", failed["status"], failed["reason"], tuple(failed["messages"])),)
    assert len(seen) == 2
    assert [m.text for m in seen[1]] == [m.text for m in chat_messages(task.prompts.chat(problem, history))]
    assert failed["messages"][0] in _text(seen[1])  # the checker's reply is in the repair prompt


INTERRUPTED = """
import sys, time
from pathlib import Path
from inspect_ai import eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

marker = Path(sys.argv[1])
calls = []

def output(messages, *_):
    calls.append(1)
    if len(calls) == 2:  # the first proof is checked by now: its checker runs
        marker.write_text("ready")
        time.sleep(3)  # (Ctrl-C comes now)
    out = ModelOutput.from_content("mockllm/model", "```\\nMESON_TAC[]\\n```")
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return out

eval("provebench/suite", model=get_model("mockllm/model", custom_outputs=output), max_samples=1,
     task_args={"categories": "logic", "checkers": 1}, display="none", log_dir=sys.argv[2])
"""


def _ours(pid: int) -> list[Any]:
    client = docker.from_env()
    try:
        return client.containers.list(all=True, filters={"label": f"{LABEL_PREFIX}.owner-pid={pid}"})
    finally:
        client.close()


def test_an_interrupted_eval_stops_its_checkers(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(INTERRUPTED))
    proc = subprocess.Popen([sys.executable, str(script), str(marker), str(tmp_path / "logs")], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the eval never reached its second sample"
            time.sleep(0.5)
        assert _ours(proc.pid), "the first sample's checker is not running"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 30
    while _ours(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ours(proc.pid) == []
    (log,) = [read_eval_log(str(f), header_only=True) for f in (tmp_path / "logs").iterdir()]
    assert log.status != "success" and log.eval.dataset.samples and log.eval.dataset.samples > 2  # stopped early
