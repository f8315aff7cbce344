"""The checker service's cost over checking in-process, measured in one run on the same machine.

1. Overhead per check: the same trivial proof (``ARITH_TAC`` on ``add_comm``) checked in-process on a
   warm engine and through ``POST /v1/check`` of a running ``provebench serve``, interleaved; median and
   p95 of each, and what the service adds (target: under 2 ms at the median).
2. Throughput: checks per second with 64 concurrent clients on the service and with 64 threads on the
   in-process engine, 2 warm checkers each, in alternating rounds (target: service at least 0.9 of
   in-process).
3. Wall time of ``provebench check --server URL proof.ml`` (process start included; target under 0.5 s)
   against the same command without a service, which loads its own checker.

    .venv/bin/python benchmarks/service.py [--checks 300] [--throughput 2000] [--rounds 4] [--skip-cold]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from provebench.checking.engine import Engine
from provebench.core.settings import Settings
from provebench.suites.load import find_suite

PROOF = "ARITH_TAC"
BODY = json.dumps({"suite": "hol-light-core", "problem": "add_comm", "proof": PROOF}).encode()
CLI = [sys.executable, "-m", "provebench.cli.main"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """One keep-alive connection, as a client that checks many proofs holds one."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def check(self) -> str:
        try:
            return self._check()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()  # the server closed it while idle (uvicorn keeps one alive 5 s): connect again
            return self._check()

    def _check(self) -> str:
        self.conn.request("POST", "/v1/check", BODY, {"Content-Type": "application/json"})
        reply = json.loads(self.conn.getresponse().read())
        return str(reply["verdict"]["status"])


def _pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checks", type=int, default=300)
    ap.add_argument("--throughput", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=4, help="alternating rounds of the throughput part")
    ap.add_argument("--skip-cold", action="store_true", help="skip the check without a service (a checker load)")
    args = ap.parse_args()

    settings = Settings(checkers=2, apt_ignore_valid_until=True)
    suite = find_suite("hol-light-core", settings.suites_dir)
    problem = suite.problem("add_comm")
    port = _free_port()
    log = Path(tempfile.mkdtemp()) / "serve.log"
    serve = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--checkers", "2", "--warm", "hol-light-core", "--max-queue", "100000"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    engine = Engine(settings)
    try:
        t0 = time.monotonic()
        engine.warm(problem)
        print(f"in-process engine warm in {time.monotonic() - t0:.0f} s", flush=True)
        while True:
            try:
                Client(port).conn.request("GET", "/v1/health")
                break
            except OSError:
                if serve.poll() is not None:
                    raise SystemExit(f"the service exited: {log.read_text()[-500:]}") from None
                time.sleep(1)
        client = Client(port)
        for _ in range(20):  # warm both paths
            assert client.check() == "PASS" and engine.check(problem, PROOF).verdict.passed
        local, remote = [], []
        for _ in range(args.checks):
            t = time.perf_counter()
            engine.check(problem, PROOF)
            local.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            client.check()
            remote.append((time.perf_counter() - t) * 1000)
        ml, mr = statistics.median(local), statistics.median(remote)
        print(
            f"1. per check, {args.checks} each, interleaved: in-process median {ml:.2f} ms"
            f" p95 {_pct(local, 0.95):.2f} ms;"
            f" service median {mr:.2f} ms p95 {_pct(remote, 0.95):.2f} ms; added {mr - ml:.2f} ms at the median,"
            f" {_pct(remote, 0.95) - _pct(local, 0.95):.2f} ms at p95 (ratio {mr / ml:.3f})"
        )

        # Alternating rounds, as the latency part interleaves: the checkers' own speed drifts over a run
        # (their memory fills as they fork), and whichever side went first would be measured on fresher ones.
        n, rounds = args.throughput, args.rounds
        per_client = threading.local()

        def remote_check(_i: int) -> str:
            if not hasattr(per_client, "c"):
                per_client.c = Client(port)
            return per_client.c.check()

        local_s = remote_s = 0.0
        with ThreadPoolExecutor(64) as pool:
            for _ in range(rounds):
                t = time.perf_counter()
                list(pool.map(lambda _i: engine.check(problem, PROOF), range(n // rounds)))
                local_s += time.perf_counter() - t
                t = time.perf_counter()
                statuses = list(pool.map(remote_check, range(n // rounds)))
                remote_s += time.perf_counter() - t
                assert set(statuses) == {"PASS"}
        done = rounds * (n // rounds)
        local_rate, remote_rate = done / local_s, done / remote_s
        print(
            f"2. throughput, 64 clients, 2 warm checkers, {done} checks each way in {rounds} alternating rounds: "
            f"in-process {local_rate:.1f}/s, service {remote_rate:.1f}/s (ratio {remote_rate / local_rate:.3f})"
        )

        proof = Path(tempfile.mkdtemp()) / "p.ml"
        proof.write_text(PROOF + "\n")
        cmd = ["check", "--suite", "hol-light-core", "--problem", "add_comm", str(proof)]
        walls = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([*CLI, *cmd, "--server", f"http://127.0.0.1:{port}"], check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
        line = f"3. `provebench check --server` wall: median {statistics.median(walls):.3f} s of 5"
        if not args.skip_cold:
            t = time.perf_counter()
            subprocess.run([*CLI, *cmd], check=True, capture_output=True, env={**os.environ, "PROVEBENCH_SERVER": ""})
            cold = time.perf_counter() - t
            line += f"; without a service {cold:.1f} s (ratio {statistics.median(walls) / cold:.4f})"
        print(line)
    finally:
        engine.close()
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)


if __name__ == "__main__":
    main()
