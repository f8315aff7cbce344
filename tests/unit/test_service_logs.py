"""The service logs no traceback for a client's fault or a clean shutdown.

``serve`` runs in its own process on 127.0.0.1, as ``provebench serve`` does, with a scripted verifier
DOUBLE whose loads take seconds (this is about the service's log, not checking); its stderr is read.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service_support import free_port

ROOT = Path(__file__).resolve().parents[2]


class Process:
    """A ``serve`` process: its port, and its stderr once it has exited."""

    def __init__(self, tmp_path: Path, load_s: float) -> None:
        self.port = free_port()
        self.log = tmp_path / "serve.log"
        (tmp_path / "suites").mkdir()
        args = ["--port", str(self.port), "--drain-seconds", "1", "--system", "hol-light"]
        command = [sys.executable, "-m", "tests.serve_double", str(load_s), *args]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PROVEBENCH_SUITES_DIR": str(tmp_path / "suites"),
            "PROVEBENCH_INFRA_RETRIES": "0",
        }
        with self.log.open("w") as stderr:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while self.ask("GET", "/v1/health")[0] != 200:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def ask(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, None if body is None else json.dumps(body), {"Content-Type": "application/json"})
            reply = conn.getresponse()
            raw = reply.read()
            return reply.status, json.loads(raw) if reply.getheader("content-type") == "application/json" else raw
        except OSError:
            return 0, None
        finally:
            conn.close()

    def stop(self) -> str:
        """SIGTERM, and the log once the process is gone."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) == 0, self.log.read_text()
        return self.log.read_text()


@pytest.fixture()
def process(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Process]:
    proc = Process(tmp_path, getattr(request, "param", 0.0))
    yield proc
    if proc.proc.poll() is None:
        proc.proc.kill()
        proc.proc.wait(30)


def test_a_client_that_goes_away_mid_body_leaves_no_traceback(process: Process) -> None:
    for path in ("/v1/check", "/v1/identity", "/verify"):
        with socket.create_connection(("127.0.0.1", process.port), timeout=30) as sock:
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
            sock.sendall(head.encode() + b"\r\n" + b'{"items": [')  # and gone, 99,989 bytes short
        time.sleep(0.3)
    assert process.ask("GET", "/v1/health")[0] == 200  # it served on
    log = process.stop()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


@pytest.mark.parametrize("process", [4.0], indirect=True)
def test_sigterm_during_a_checker_load_leaves_no_traceback(process: Process) -> None:
    replies: list[tuple[int, Any]] = []
    body = {"system": "hol-light", "goal": "T", "proof": "X"}
    client = threading.Thread(target=lambda: replies.append(process.ask("POST", "/v1/check", body)))
    client.start()
    deadline = time.monotonic() + 30
    while not any(c["state"] == "loading" for c in process.ask("GET", "/v1/checkers")[1]["contexts"]):
        assert time.monotonic() < deadline, "the checker did not start loading"
        time.sleep(0.1)
    log = process.stop()  # the drain (1 s) ends before the load (4 s) does
    client.join(30)
    assert "Traceback" not in log and "CancelledError" not in log, log
    assert replies == [(503, {"error": "the service is shutting down"})]
