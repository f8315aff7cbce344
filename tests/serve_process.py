"""`provebench serve` started as users start it, in a subprocess, for the service's real-checker tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Service:
    """A running service: its URL, its process and its log."""

    url: str
    proc: subprocess.Popen[str]
    log: Path

    def ask(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=900) as reply:
                text = reply.read()
                kind = reply.headers.get("content-type", "")
                data = json.loads(text) if kind.startswith("application/json") else text.decode()
                return reply.status, data, dict(reply.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), dict(exc.headers)

    def check(self, body: dict[str, Any]) -> dict[str, Any]:
        status, reply, _ = self.ask("POST", "/v1/check", body)
        assert status == 200, reply
        return dict(reply)


def start_serve(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``provebench serve ARGS``, its output to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "provebench.cli.main", "serve", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_healthy(url: str, proc: subprocess.Popen[str], log: Path, within_s: float) -> None:
    """Until ``/v1/health`` answers; a service that exits or does not come up fails with its log's tail."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the service did not come up: {log.read_text()[-2000:]}")
