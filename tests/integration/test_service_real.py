"""The checker service on real HOL Light in real containers: `provebench serve` as users start it.

One service (one warm checker per context, a memory budget of two contexts) serves the module's
tests, in any order: its API, the same verdicts as local checks (``check``, ``run`` and ``suites
selftest`` with ``--server``), batches whole and streamed, concurrent clients, every bad request, a
timeout, a full queue, a context loading while checks on a warm one go on, a checker container
killed mid-batch, and the least recently used context stopped to make room. Each test sets up the
contexts it relies on: one that loads another context checks on the core suite's first, so that the
core context is never the one stopped to make room. SIGTERM during a batch (nothing left running)
stops a service of its own; auth is tested on one that loads nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from provebench.checking.engine import Engine
from provebench.core.model import Problem, Status
from provebench.core.settings import Settings
from provebench.runs.selftest import plan_selftest, run_selftest
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier
from tests.components import tests_hol_light_family
from tests.serve_process import Service, start_serve, wait_healthy
from tests.service_support import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CHECK_MB, HEADROOM_MB = 2048, 2048
SPIN = "(let rec spin n = if n = 0 then ARITH_TAC else spin (n - 1) in spin {n})"  # a proof that takes a while
LOOP = "let rec loop x = loop x in loop 0"
CONTEXT_SUITE = """name: {name}
version: "1"
system: hol-light
description: a suite with a context of its own (a second warm context)
checker_image: hol-light
context: |
  let {name}_lemma = ARITH_RULE `{k} + 1 = {k1}`;;
"""
CONTEXT_PROBLEMS = """- id: own
  statement: "{k} + 1 = {k1}"
  timeout_s: 30
  reference_proof: "ACCEPT_TAC {name}_lemma"
"""


def _containers(pid: int) -> list[Any]:
    labels = ["org.provebench.role=checker", f"org.provebench.owner-pid={pid}"]
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


@pytest.fixture(scope="module")
def suites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small suites whose contexts differ from the core suite's (each its own warm context)."""
    out = {}
    for name, k in (("ctx_b", 20), ("ctx_c", 30), ("ctx_load", 40)):
        folder = tmp_path_factory.mktemp(name)
        (folder / "suite.yaml").write_text(CONTEXT_SUITE.format(name=name, k=k, k1=k + 1))
        (folder / "problems.yaml").write_text(CONTEXT_PROBLEMS.format(name=name, k=k, k1=k + 1))
        out[name] = folder
    return out


CORE = {"suite": "hol-light-core", "problem": "add_comm", "proof": "ARITH_TAC"}


def _own(suites: dict[str, Path], name: str) -> dict[str, Any]:
    """A check on the context of suite ``name`` (loading it if it is cold)."""
    assert name in suites  # served by its name: the service was started with its folder (--suite)
    return {"suite": name, "problem": "own", "proof": f"ACCEPT_TAC {name}_lemma"}


def _contexts(service: Service) -> list[dict[str, Any]]:
    return list(service.ask("GET", "/v1/checkers")[1]["contexts"])


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, suites: dict[str, Path]) -> Iterator[Service]:
    port, log = free_port(), tmp_path_factory.mktemp("service") / "serve.log"
    env = {
        "PROVEBENCH_MAX_PROOF_BYTES": "100000",
        "PROVEBENCH_MEMORY_BUDGET_MB": str(2 * (CHECK_MB + HEADROOM_MB)),
        "PROVEBENCH_INFRA_BACKOFF_S": "0.5",
    }
    args = [
        "--port",
        str(port),
        "--checkers",
        "1",
        "--memory-mb",
        str(CHECK_MB),
        "--warm",
        "hol-light-core",
        "--max-batch",
        "20",
        "--max-queue",
        "30",
        "--max-body-mb",
        "1",
        "--drain-seconds",
        "3",
        *(arg for folder in suites.values() for arg in ("--suite", str(folder))),
    ]
    proc = start_serve(args, log, env)
    service = Service(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_healthy(service.url, proc, log, within_s=900)
        yield service
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def _local(hol_verifier: HolLightVerifier, problem: Problem, proof: str, timeout_s: float | None = None) -> Any:
    v = hol_verifier.check(problem, proof, timeout_s)
    return (v.status, v.reason)


def test_the_api_its_schema_and_metrics(service: Service) -> None:
    status, health, _ = service.ask("GET", "/v1/health")
    assert status == 200 and health["status"] == "ok" and health["api"] == "v1"
    _, schema, _ = service.ask("GET", "/openapi.json")
    assert {"/v1/check", "/v1/health", "/v1/checkers", "/metrics", "/verify", "/api/check"} <= set(schema["paths"])
    service.check(CORE)  # warmed at the start (--warm) and stopped by no test; whatever ran before, warm now
    _, checkers, _ = service.ask("GET", "/v1/checkers")
    (core,) = [c for c in checkers["contexts"] if "hol-light-core" in c["suites"]]
    assert core["state"] == "warm"
    assert core["memory_mb"] == CHECK_MB + HEADROOM_MB
    assert core["checker"]["recipe"].startswith(f"{tests_hol_light_family()}:")
    assert checkers["memory_budget_mb"] == 2 * (CHECK_MB + HEADROOM_MB) and checkers["queue_depth"] == 0
    _, metrics, _ = service.ask("GET", "/metrics")
    for name in (
        "provebench_queue_depth",
        "provebench_checks_per_second",
        "provebench_checker_restarts",
        "provebench_context_load_seconds",
        "provebench_check_seconds_bucket",
    ):
        assert name in metrics


def test_one_proof_gets_the_verdict_a_local_check_gives(
    service: Service, core_suite: Suite, hol_verifier: HolLightVerifier
) -> None:
    cases = [
        ("add_comm", "ARITH_TAC"),
        ("peirce", "MESON_TAC[]"),
        ("add_comm", "MESON_TAC[]"),
        ("add_0_right", "INDUCT_TAC THEN ASM_REWRITE_TAC[ADD_CLAUSES]"),
        ("peirce", "CHEAT_TAC"),
    ]
    for pid, proof in cases:
        reply = service.check({"suite": "hol-light-core", "problem": pid, "proof": proof, "id": pid})
        verdict = reply["verdict"]
        assert reply["id"] == pid and verdict["service"] == service.url
        assert (Status(verdict["status"]), verdict["reason"]) == (lambda s, r: (s, r.value))(
            *_local(hol_verifier, core_suite.problem(pid), proof)
        ), (pid, proof)
        assert verdict["checker"]["recipe"] == hol_verifier.checker.recipe
    goal = service.check({"system": "hol-light", "goal": "`2 + 2 = 4`", "proof": "ARITH_TAC"})
    assert goal["verdict"]["status"] == "PASS"


def test_batches_whole_and_streamed(service: Service) -> None:
    items = [
        {"suite": "hol-light-core", "problem": pid, "proof": proof, "id": n}
        for n, (pid, proof) in enumerate(
            [
                ("add_comm", "ARITH_TAC"),
                ("peirce", "ARITH_TAC"),
                ("mult_comm", "MESON_TAC[MULT_SYM]"),
                ("drinker", "MESON_TAC[]"),
            ]
            * 3
        )
    ]
    whole = service.check({"items": items})["results"]
    assert [r["id"] for r in whole] == list(range(12))
    assert [r["verdict"]["status"] for r in whole] == ["PASS", "FAIL", "PASS", "PASS"] * 3
    status, text, headers = service.ask("POST", "/v1/check", {"items": items, "stream": True})
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(r["id"], r["verdict"]["status"]) for r in lines] == [(r["id"], r["verdict"]["status"]) for r in whole]


def test_concurrent_clients_each_get_their_own_verdict(service: Service) -> None:
    def one(n: int) -> tuple[int, str]:
        proof = "ARITH_TAC" if n % 3 else "REFL_TAC"
        reply = service.check({"suite": "hol-light-core", "problem": "add_comm", "proof": proof, "id": n})
        return reply["id"], reply["verdict"]["status"]

    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(one, range(48)))
    assert got == [(n, "PASS" if n % 3 else "FAIL") for n in range(48)]


def test_every_bad_request_is_a_4xx_with_one_line(service: Service) -> None:
    def error(status: int, body: Any = None, raw: bytes | None = None) -> str:
        got, reply, _ = service.ask("POST", "/v1/check", body, raw=raw)
        assert got == status, reply
        assert set(reply) == {"error"} and "\n" not in reply["error"]
        return str(reply["error"])

    assert "invalid JSON" in error(400, raw=b"{not json")
    assert "no-such-suite" in error(404, {"suite": "no-such-suite", "problem": "p", "proof": "ARITH_TAC"})
    assert "no-such-problem" in error(404, {"suite": "hol-light-core", "problem": "no-such-problem", "proof": "X"})
    assert "size limit" in error(413, {"suite": "hol-light-core", "problem": "add_comm", "proof": "x" * 200_000})
    assert "body" in error(
        413, raw=json.dumps({"items": [{"system": "hol-light", "goal": "T", "proof": "x" * 90_000}] * 13}).encode()
    )
    assert "limit of 20" in error(413, {"items": [{"system": "hol-light", "goal": "T", "proof": "ARITH_TAC"}] * 21})
    assert "either suite and problem" in error(422, {"proof": "ARITH_TAC"})
    assert "timeout_s" in error(422, {"system": "hol-light", "goal": "T", "proof": "X", "timeout_s": -1})


def test_a_timeout_and_a_full_queue(service: Service) -> None:
    slow = [{"suite": "hol-light-core", "problem": "add_comm", "proof": LOOP, "id": n} for n in range(20)]
    box: dict[str, Any] = {}
    first = threading.Thread(target=lambda: box.update(reply=service.check({"items": slow, "timeout_s": 1})))
    first.start()
    # The queue holds 30 and each of the first batch's 20 checks leaves it as it ends (at its 1 s limit): 20
    # more are refused while more than 10 of the first wait, for some 10 s, far more than the poll takes.
    _wait_for(lambda: service.ask("GET", "/v1/checkers")[1]["queue_depth"] > 10, "the first batch queued", 120)
    status, reply, headers = service.ask("POST", "/v1/check", {"items": slow, "timeout_s": 1})
    assert status == 429 and headers.get("retry-after") == "5" and "waiting" in reply["error"]
    first.join(600)
    assert not first.is_alive(), "the first batch did not end"
    verdicts = [r["verdict"] for r in box["reply"]["results"]]
    assert {(v["status"], v["reason"]) for v in verdicts} == {("TIMEOUT", "wall-timeout")}
    # The request's limit (1 s), not the problem's (30 s): half the problem's leaves a loaded machine 14 s.
    assert all(v["check_seconds"] < 15 for v in verdicts)


def test_check_run_and_selftest_through_the_service_match_local_checks(
    service: Service,
    settings: Settings,
    core_suite: Suite,
    hol_verifier: HolLightVerifier,
    tmp_path: Path,
    shared_verifier_factory: Any,
) -> None:
    proof = tmp_path / "p.ml"
    proof.write_text("ARITH_TAC\n")
    cli = [sys.executable, "-m", "provebench.cli.main"]
    done = subprocess.run(
        [
            *cli,
            "check",
            "--server",
            service.url,
            "--suite",
            "hol-light-core",
            "--problem",
            "add_comm",
            "--json",
            str(proof),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        json.loads(done.stdout)["status"]
        == "PASS"
        == _local(hol_verifier, core_suite.problem("add_comm"), "ARITH_TAC")[0].value
    )

    out = tmp_path / "run"
    done = subprocess.run(
        [
            *cli,
            "run",
            "--suite",
            "hol-light-core",
            "--prover",
            "baseline",
            "-n",
            "1",
            "--timeout",
            "5",
            "--server",
            service.url,
            "--out",
            str(out),
            "--no-progress",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    remote = {(r["problem"]): r for r in map(json.loads, (out / "attempts.jsonl").read_text().splitlines())}
    local = Engine(settings, shared_verifier_factory)
    problems = list(core_suite.problems)
    local_verdicts = list(local.map([(p, remote[p.id]["prover"]["proof"] or "") for p in problems], 5))
    assert {p.id: (v.status.value, v.reason.value) for p, v in zip(problems, local_verdicts, strict=True)} == {
        pid: (r["verdict"]["status"], r["verdict"]["reason"]) for pid, r in remote.items()
    }
    assert {r["verdict"]["service"] for r in remote.values()} == {service.url}
    assert {r["verdict"]["checker"]["recipe"] for r in remote.values()} == {hol_verifier.checker.recipe}

    done = subprocess.run(
        [*cli, "suites", "selftest", "hol-light-core", "--sample", "10", "--server", service.url, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    plan = plan_selftest(core_suite, 10, 0, None)
    mine = run_selftest(local, core_suite, plan, {}, 1, lambda _p, _v: None)
    assert (report["checked"], report["passed"]) == (len(mine.verdicts), mine.passed) == (10, 10)


def test_a_context_loading_holds_up_no_check_on_a_warm_one(service: Service, suites: dict[str, Path]) -> None:
    # ctx_load is this test's alone: cold until now. Core, used last, is not the context stopped to make room.
    assert service.check(CORE)["verdict"]["status"] == "PASS"
    box: dict[str, Any] = {}
    loading = threading.Thread(target=lambda: box.update(reply=service.check(_own(suites, "ctx_load"))))
    loading.start()

    def ctx_load_loading() -> bool:
        return any(c["state"] == "loading" and "ctx_load" in c["suites"] for c in _contexts(service))

    _wait_for(ctx_load_loading, "ctx_load started loading", 120)
    for _ in range(5):  # while the other context loads (a minute or more), the warm one answers at once
        t0 = time.monotonic()
        reply = service.check(CORE)
        # A check takes well under a second; 30 s leaves a loaded machine room. A check that waited for the load
        # would end with it: the load still under way after all five (below) is what shows none did.
        assert reply["verdict"]["status"] == "PASS" and time.monotonic() - t0 < 30
    assert loading.is_alive() and ctx_load_loading(), "the load ended before the checks on the warm context"
    loading.join(900)
    assert box["reply"]["verdict"]["status"] == "PASS"


def test_a_checker_killed_mid_batch_is_restarted_and_the_batch_completes(service: Service) -> None:
    items = [
        # Each check computes for seconds (about 4 ms per million steps on an idle machine here), so the batch is
        # still running when the kill comes. With 2 million steps (CI, stop 25) it was over before, with no retry.
        {"suite": "hol-light-core", "problem": "add_comm", "proof": SPIN.format(n=600_000_000), "id": n}
        for n in range(4)
    ]
    box: dict[str, Any] = {}
    batch = threading.Thread(target=lambda: box.update(reply=service.check({"items": items})))
    batch.start()
    # Kill while a check of the batch holds its checker (busy from the moment it takes one), not before it starts.
    _wait_for(lambda: any(c["busy"] for c in _contexts(service)), "a check of the batch started", 120)
    core_image = [c for c in _containers(service.proc.pid) if c.status == "running"]
    assert core_image, "no checker container to kill"
    assert batch.is_alive(), "the batch ended before its checker could be killed"
    for c in core_image:  # every checker of every context: the batch's is among them
        c.kill()
    batch.join(1200)
    results = box["reply"]["results"]
    assert [r["verdict"]["status"] for r in results] == ["PASS"] * 4
    assert sum(r["retries"] for r in results) >= 1
    _, metrics, _ = service.ask("GET", "/metrics")
    restarts = [line for line in metrics.splitlines() if line.startswith("provebench_checker_restarts ")]
    assert restarts and float(restarts[0].split()[1]) >= 1


def test_the_least_recently_used_idle_context_makes_room(service: Service, suites: dict[str, Path]) -> None:
    # The budget holds two contexts. Whatever other tests left warm: core used, then ctx_b (loaded beside it if
    # cold, in place of any other), then core again, the latest used. ctx_c then needs room: ctx_b must go.
    for body in (CORE, _own(suites, "ctx_b"), CORE):
        assert service.check(body)["verdict"]["status"] == "PASS"
    reply = service.check(_own(suites, "ctx_c"))
    assert reply["verdict"]["status"] == "PASS"
    _, checkers, _ = service.ask("GET", "/v1/checkers")
    state = {suite: c["state"] for c in checkers["contexts"] for suite in c["suites"]}
    assert {k: state[k] for k in ("hol-light-core", "ctx_b", "ctx_c")} == {
        "hol-light-core": "warm",
        "ctx_b": "cold",  # idle the longest
        "ctx_c": "warm",
    }
    assert checkers["memory_reserved_mb"] <= checkers["memory_budget_mb"]


def test_sigterm_during_a_batch_drains_and_leaves_no_container(tmp_path: Path) -> None:
    # A service of its own: the signal stops it, and other tests must not find the shared one gone.
    port, log = free_port(), tmp_path / "serve.log"
    args = ["--port", str(port), "--checkers", "1", "--memory-mb", str(CHECK_MB), "--warm", "hol-light-core"]
    proc = start_serve([*args, "--drain-seconds", "3"], log)
    service = Service(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_healthy(service.url, proc, log, within_s=900)
        # Each check loops to its limit, 60 s: a service that waited for the check in flight would take that long.
        items = [{"suite": "hol-light-core", "problem": "union_comm", "proof": LOOP, "id": n} for n in range(6)]
        ended: list[BaseException] = []

        def stream() -> None:
            try:
                service.ask("POST", "/v1/check", {"items": items, "stream": True})
            except Exception as exc:  # noqa: BLE001 - the drain cuts the stream: that is the point
                ended.append(exc)

        client = threading.Thread(target=stream, daemon=True)
        client.start()
        _wait_for(lambda: any(c["busy"] for c in _contexts(service)), "a check of the batch started", 120)
        assert _containers(proc.pid)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        # The drain (3 s) and the containers' removal; 30 s leaves a loaded machine room, and is half the check's.
        assert time.monotonic() - t0 < 30, "the drain took too long"
        assert proc.returncode == 0, log.read_text()[-1500:]
        assert not _containers(proc.pid), "a checker container outlived the service"
        assert "every checker is stopped" in log.read_text()
        client.join(60)
        assert not client.is_alive() and ended, "the stream of unfinished checks was not cut"
    finally:
        if proc.poll() is None:  # the test failed before the signal: stop its checkers all the same
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)


def test_auth_and_loopback(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "auth.log"
    proc = start_serve(["--port", str(port), "--token-env", "PB_TOKEN"], log, {"PB_TOKEN": "s3cret"})
    auth = Service(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(auth.url + "/v1/health", timeout=2)
            except urllib.error.HTTPError:
                break  # 401: it is up
            except OSError:
                time.sleep(0.3)
        assert auth.ask("GET", "/v1/health")[0] == 401
        assert auth.ask("GET", "/v1/health", headers={"Authorization": "Bearer wrong"})[0] == 401
        status, health, _ = auth.ask("GET", "/v1/health", headers={"Authorization": "Bearer s3cret"})
        assert status == 200 and health["status"] == "ok"
        status, reply, _ = auth.ask("POST", "/v1/check", {"system": "hol-light", "goal": "T", "proof": "X"})
        assert status == 401 and "bearer token" in reply["error"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    done = subprocess.run(
        [sys.executable, "-m", "provebench.cli.main", "serve", "--host", "0.0.0.0", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "needs --token-env" in done.stderr and "Traceback" not in done.stderr


def test_a_native_service_gives_the_native_checkers_verdicts(
    tmp_path: Path, core_suite: Suite, native_verifier: HolLightVerifier
) -> None:
    port, log = free_port(), tmp_path / "native.log"
    args = ["--port", str(port), "--checkers", "1", "--memory-mb", str(CHECK_MB), "--checker", "native"]
    proc = start_serve([*args, "--warm", "hol-light-core"], log)
    native = Service(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_healthy(native.url, proc, log, within_s=600)
        cases = [("add_comm", "ARITH_TAC"), ("peirce", "ARITH_TAC"), ("peirce", "CHEAT_TAC"), ("gauss_sum", LOOP)]
        items = [
            {"suite": "hol-light-core", "problem": pid, "proof": proof, "id": n} for n, (pid, proof) in enumerate(cases)
        ]
        results = native.check({"items": items, "timeout_s": 5})["results"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    got = [(r["verdict"]["status"], r["verdict"]["reason"]) for r in results]
    local = [native_verifier.check(core_suite.problem(pid), proof, 5) for pid, proof in cases]
    assert got == [(v.status.value, v.reason.value) for v in local]
    assert got[0] == ("PASS", "proved") and got[-1][0] == "TIMEOUT"
    assert {r["verdict"]["checker"]["recipe"] for r in results} == {native_verifier.checker.recipe}
