"""Whole runs on the real HOL Light checker in a container: baseline, OpenAI-compatible double, kill and resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import docker
import pytest

from provebench import containers
from provebench.cli import main as cli
from provebench.core.journal import read_journal
from provebench.core.model import Problem, Reason, Status
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config, read_config_file
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]


def _execute(
    out: Path, settings: Settings, factory: Factory, resume: bool = False, **config: object
) -> tuple[RunDir, object]:
    rc = build_config({"suite": "hol-light-core", **config}, {}, "test")
    plan = plan_run(rc, settings)
    prover = make_prover(rc.prover.name, rc.prover.settings())
    prover.prepare(plan.suite.problems)
    rundir = RunDir(out) if resume else RunDir.create(out, plan.suite.name, prover.name)
    summary = execute(plan, rundir, prover, settings, RunHooks(), factory, resume=resume)
    return rundir, summary


def test_baseline_run_on_hol_light_core(
    tmp_path: Path, settings: Settings, shared_verifier_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    rundir, _ = _execute(tmp_path / "run", settings, shared_verifier_factory, n=2, timeout_s=5)
    records = {r.key: r for r in read_journal(rundir.journal_path)}
    assert len(records) == 100
    # Real verdicts: ARITH_TAC (sample 0) proves commutativity, MESON_TAC[] (sample 1) Peirce's law,
    # and neither proves the Gauss sum (MESON searches until the 5 s override stops it).
    assert records[("add_comm", 0, 0)].verdict.status is Status.PASS
    assert records[("peirce", 1, 0)].verdict.status is Status.PASS
    assert records[("peirce", 0, 0)].verdict.status is Status.FAIL
    assert records[("gauss_sum", 1, 0)].verdict.reason is Reason.WALL_TIMEOUT
    checkers = [r.verdict.checker for r in records.values()]
    assert all(c is not None and c.digest.startswith("sha256:") and c.image for c in checkers)

    summary = json.loads(rundir.summary_path.read_text())
    assert {"problems", "attempts", "solved", "pass_at_k", "by_category"} <= set(summary)
    assert summary["problems"] == 50 and summary["attempts"] == 100
    assert summary["by_category"]["logic"]["solved"] == 8
    assert 0 < summary["solved"] < 50 and summary["pass_at_k"]["1"] < summary["pass_at_k"]["2"]
    manifest = json.loads(rundir.manifest_path.read_text())
    assert manifest["suite"]["content_hash"].startswith("sha256:")
    assert manifest["checkers"][0]["version"].startswith("1:3.1.0+git20260619")

    assert cli.main(["report", str(rundir.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == summary
    assert cli.main(["report", str(rundir.path)]) == 0
    assert "pass@2" in capsys.readouterr().out


def test_a_run_on_native_checkers_gives_the_bytecode_runs_verdicts(
    tmp_path: Path,
    settings: Settings,
    shared_bytecode_verifier_factory: Factory,
    shared_native_verifier_factory: Factory,
) -> None:
    runs = {}
    for name, factory in (("bytecode", shared_bytecode_verifier_factory), ("native", shared_native_verifier_factory)):
        rundir, _ = _execute(tmp_path / name, settings, factory, n=1, timeout_s=5)
        runs[name] = {r.key: (r.verdict.status, r.verdict.reason) for r in read_journal(rundir.journal_path)}
        manifest = json.loads(rundir.manifest_path.read_text())
        assert manifest["checkers"][0]["recipe"].startswith(f"hol-light{'-native' if name == 'native' else ''}:")
    assert len(runs["native"]) == 50 and runs["native"] == runs["bytecode"]
    assert runs["native"][("add_comm", 0, 0)] == (Status.PASS, Reason.PROVED)


def test_openai_prover_through_api_faults_and_a_repair_round(
    tmp_path: Path,
    settings: Settings,
    core_suite: Suite,
    shared_verifier_factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = {p.statement: p.reference_proof or "" for p in core_suite.problems}

    peirce_goal = "!p q. ((p ==> q) ==> p) ==> p"

    def answer(statement: str, user: str) -> str:
        # Peirce's law gets a wrong first answer; the repair prompt carries the real checker's message.
        if statement == peirce_goal and "Attempt 1 was" not in user:
            return fenced("ARITH_TAC")
        return fenced(reference[statement])

    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    faults = ["429", "500", "slow", "malformed", "nocode"]
    # Faults go to requests in arrival order, which is not fixed: Peirce's requests get none.
    exempt = frozenset({peirce_goal})
    with OpenAIApiDouble(answer, faults=faults, retry_after_s=0.2, slow_s=4.0, exempt=exempt) as api:
        prover = {
            "name": "openai",
            "model": api.model,
            "base_url": api.base_url,
            "api_key_env": "DOUBLE_API_KEY",
            "request_timeout_s": 2.5,
            "backoff_initial_s": 0.05,
            "prices": {"input_per_mtok": 1.0, "output_per_mtok": 4.0},
        }
        rundir, _ = _execute(
            tmp_path / "run", settings, shared_verifier_factory, prover=prover, categories=["logic"], repair_rounds=1
        )
        repair_prompts = [
            r["messages"][1]["content"] for r in api.requests if "Attempt 1 was" in r["messages"][1]["content"]
        ]
    records = read_journal(rundir.journal_path)
    assert api.served_faults == faults
    retried = [e.error.split(":")[0] for r in records for e in r.prover.api_retries]
    # Each injected fault was retried once; on a loaded machine an ordinary reply can also be slower
    # than the request timeout, which is retried the same way.
    counts = Counter(retried)
    assert counts["HTTP 429"] == counts["HTTP 500"] == counts["MalformedReply"] == 1
    assert counts["APITimeoutError"] >= 1 and len(counts) == 4
    no_proof = [r for r in records if r.verdict.reason is Reason.NO_PROOF]
    assert len(no_proof) == 1 and no_proof[0].round == 0 and no_proof[0].prover.raw_reply == "I cannot prove this."
    peirce = sorted((r for r in records if r.problem == "peirce"), key=lambda r: r.round)
    assert [r.verdict.status for r in peirce] == [Status.FAIL, Status.PASS]
    assert any("ARITH_TAC" in p and "FAIL (tactic-failed)" in p for p in repair_prompts)
    summary = json.loads(rundir.summary_path.read_text())
    assert summary["solved"] == 8 and summary["solved_first_round"] == 6
    assert summary["totals"]["tokens_in"] > 0 and summary["totals"]["cost"] > 0
    assert summary["totals"]["api_retries"] == len(retried)


def _running_ids() -> set[str]:
    client = docker.from_env()
    listed = client.containers.list(all=True, filters={"label": f"{containers.LABEL_PREFIX}.role=checker"})
    return {c.id for c in listed}


def _attached_containers(pid: int) -> set[str]:
    """IDs of the checker containers a provebench process is attached to (its `docker start` children)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"--attach" in argv:
            found.add(argv[-2].decode() if argv[-1] == b"" else argv[-1].decode())
    return found


def test_a_run_killed_with_sigkill_resumes_to_the_records_of_an_uninterrupted_run(
    tmp_path: Path, settings: Settings, shared_verifier_factory: Factory
) -> None:
    selection = {"n": 3, "categories": ["logic", "sets", "integers"], "timeout_s": 5}
    expected_total = 19 * 3
    killed = tmp_path / "killed"
    argv = [sys.executable, "-m", "provebench.cli.main", "--memory-mb", str(settings.memory_mb), "run"]
    argv += ["--suite", "hol-light-core", "-n", "3", "--timeout", "5", "--out", str(killed), "--no-progress"]
    argv += [a for c in selection["categories"] for a in ("--category", c)]  # type: ignore[attr-defined]
    kill_after = random.Random().randint(1, expected_total - 10)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = killed / "attempts.jsonl"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= kill_after:
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    its_checkers = _attached_containers(proc.pid)
    assert its_checkers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = read_journal(journal)
    assert kill_after <= len(first) < expected_total

    # The killed run's checker container goes away by itself (its stdin closed).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and its_checkers & _running_ids():
        time.sleep(0.5)
    assert not its_checkers & _running_ids()

    config = read_config_file(killed / "config.yaml")
    assert config["n"] == 3 and config["timeout_s"] == 5
    rc = build_config(config, {}, "resume")
    plan = plan_run(rc, settings)
    prover = make_prover(rc.prover.name, rc.prover.settings())
    prover.prepare(plan.suite.problems)
    execute(plan, RunDir(killed), prover, settings, RunHooks(), shared_verifier_factory, resume=True)
    resumed = read_journal(journal)
    keys = [r.key for r in resumed]
    assert len(keys) == len(set(keys)) == expected_total, "a finished attempt was redone or one is missing"
    assert {r.session for r in resumed} == {0, 1}

    straight, _ = _execute(tmp_path / "straight", settings, shared_verifier_factory, **selection)
    reference = {r.key: r.verdict.status for r in read_journal(straight.journal_path)}
    assert {r.key: r.verdict.status for r in resumed} == reference


def test_a_checker_lost_mid_run_is_restarted_and_the_check_retried(
    tmp_path: Path, settings: Settings, shared_verifier_factory: Factory, hol_verifier: HolLightVerifier
) -> None:
    killed: list[str] = []

    def kill_checker_once(record: object, _done: bool) -> None:
        if not killed:
            for name in hol_verifier.checker_names:  # only this run's checker
                docker.from_env().containers.get(name).kill()
                killed.append(name)

    rc = build_config({"suite": "hol-light-core", "n": 2, "categories": ["logic"], "infra_retries": 2}, {}, "test")
    plan = plan_run(rc, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(on_record=kill_checker_once), shared_verifier_factory)
    records = read_journal(rundir.journal_path)
    assert killed and len(records) == 16
    assert all(r.verdict.status is not Status.ERROR for r in records)
    assert sum(r.infra_retries for r in records) >= 1
    assert json.loads(rundir.summary_path.read_text())["by_category"]["logic"]["solved"] == 8
