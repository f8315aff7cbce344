"""The checker service on real HOL Light in real containers: `provebench serve` as users start it.

One service (one warm checker per context, a memory budget of two contexts) serves the whole
module, in this order: its API, the same verdicts as local checks (``check``, ``run`` and
``suites selftest`` with ``--server``), batches whole and streamed, concurrent clients, every bad
request, a timeout, a full queue, a context loading while checks on a warm one go on, a checker
container killed mid-batch, the least recently used context stopped to make room, and SIGTERM
during a batch (nothing left running). Auth is tested on a second service that loads nothing.
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from provebench.engine import Engine
from provebench.model import Problem, Status
from provebench.selftest import plan_selftest, run_selftest
from provebench.settings import Settings
from provebench.suites.load import Suite
from provebench.verify.hol_light import HolLightVerifier
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
    """Two small suites whose contexts differ from the core suite's (each its own warm context)."""
    out = {}
    for name, k in (("ctx_b", 20), ("ctx_c", 30)):
        folder = tmp_path_factory.mktemp(name)
        (folder / "suite.yaml").write_text(CONTEXT_SUITE.format(name=name, k=k, k1=k + 1))
        (folder / "problems.yaml").write_text(CONTEXT_PROBLEMS.format(name=name, k=k, k1=k + 1))
        out[name] = folder
    return out


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
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
    _, checkers, _ = service.ask("GET", "/v1/checkers")
    (core,) = [c for c in checkers["contexts"] if c["state"] == "warm"]
    assert core["memory_mb"] == CHECK_MB + HEADROOM_MB and core["checker"]["recipe"].startswith("hol-light:")
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

    assert "not JSON" in error(400, raw=b"{not json")
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
    deadline = time.monotonic() + 10
    while service.ask("GET", "/v1/checkers")[1]["queue_depth"] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, reply, headers = service.ask("POST", "/v1/check", {"items": slow[:11]})
    assert status == 429 and headers.get("retry-after") == "5" and "waiting" in reply["error"]
    first.join(120)
    verdicts = [r["verdict"] for r in box["reply"]["results"]]
    assert {(v["status"], v["reason"]) for v in verdicts} == {("TIMEOUT", "wall-timeout")}
    assert all(v["check_seconds"] < 3 for v in verdicts)  # the request's limit, not the problem's 30 s


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
    cli = [sys.executable, "-m", "provebench.cli"]
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
    local_verdicts = list(local.map([(p, remote[p.id]["proof"] or "") for p in problems], 5))
    assert {p.id: (v.status.value, v.reason.value) for p, v in zip(problems, local_verdicts, strict=True)} == {
        pid: (r["status"], r["reason"]) for pid, r in remote.items()
    }
    assert {r["checker_service"] for r in remote.values()} == {service.url}
    assert {r["checker_recipe"] for r in remote.values()} == {hol_verifier.checker.recipe}

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
    box: dict[str, Any] = {}
    loading = threading.Thread(
        target=lambda: box.update(
            reply=service.check({"suite": str(suites["ctx_b"]), "problem": "own", "proof": "ACCEPT_TAC ctx_b_lemma"})
        )
    )
    loading.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        c["state"] == "loading" for c in service.ask("GET", "/v1/checkers")[1]["contexts"]
    ):
        time.sleep(0.1)
    assert any(c["state"] == "loading" for c in service.ask("GET", "/v1/checkers")[1]["contexts"])
    for _ in range(5):  # while the other context loads (a minute or more), the warm one answers at once
        t0 = time.monotonic()
        reply = service.check({"suite": "hol-light-core", "problem": "add_comm", "proof": "ARITH_TAC"})
        assert reply["verdict"]["status"] == "PASS" and time.monotonic() - t0 < 5
    assert loading.is_alive()
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
    deadline = time.monotonic() + 60  # kill while a check of the batch runs, not before it starts
    while time.monotonic() < deadline and not any(c["busy"] for c in service.ask("GET", "/v1/checkers")[1]["contexts"]):
        time.sleep(0.05)
    time.sleep(0.3)
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
    service.check({"suite": "hol-light-core", "problem": "add_comm", "proof": "ARITH_TAC"})  # core: the latest used
    reply = service.check({"suite": str(suites["ctx_c"]), "problem": "own", "proof": "ACCEPT_TAC ctx_c_lemma"})
    assert reply["verdict"]["status"] == "PASS"
    _, checkers, _ = service.ask("GET", "/v1/checkers")
    state = {suite: c["state"] for c in checkers["contexts"] for suite in c["suites"]}
    assert {k: state[k] for k in ("hol-light-core", "ctx_b", "ctx_c")} == {
        "hol-light-core": "warm",
        "ctx_b": "cold",  # idle the longest
        "ctx_c": "warm",
    }
    assert checkers["memory_reserved_mb"] <= checkers["memory_budget_mb"]


def test_sigterm_during_a_batch_drains_and_leaves_no_container(service: Service) -> None:
    items = [{"suite": "hol-light-core", "problem": "add_comm", "proof": LOOP, "id": n} for n in range(6)]
    ended: list[BaseException] = []

    def stream() -> None:
        try:
            service.ask("POST", "/v1/check", {"items": items, "stream": True})
        except Exception as exc:  # noqa: BLE001 - the drain cuts the stream: that is the point
            ended.append(exc)

    client = threading.Thread(target=stream, daemon=True)
    client.start()
    time.sleep(1.5)
    assert _containers(service.proc.pid)
    t0 = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    service.proc.wait(60)
    assert time.monotonic() - t0 < 20, "the drain took too long"
    assert service.proc.returncode == 0, service.log.read_text()[-1500:]
    assert not _containers(service.proc.pid), "a checker container outlived the service"
    assert "every checker is stopped" in service.log.read_text()
    client.join(10)
    assert not client.is_alive() and ended, "the stream of unfinished checks was not cut"


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
        [sys.executable, "-m", "provebench.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
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
