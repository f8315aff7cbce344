"""The Lean check driver's process: how it is started (a container, or locally for tests) and spoken to.

One ``LeanSession`` is one driver with its REPL behind it (harness/lean/driver.py); requests and
replies are JSON lines, the REPL's own replies inside them (``wire``).
"""

from __future__ import annotations

import json
import queue
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from provebench.containers import resource_root
from provebench.core.errors import VerifierUnavailable
from provebench.systems.hol_light.session import LaunchedToplevel
from provebench.systems.lean.wire import Message, ReplResponse

_REPLY_GRACE_S = 30.0


class LeanLauncher(Protocol):
    """Starts the check driver (in a container, or a local process for tests)."""

    def launch(self) -> LaunchedToplevel:
        """Prepare one driver process; the caller spawns ``argv``."""
        ...


class LocalLeanLauncher:
    """Runs the driver with the host's python3 around a REPL command on the host (tests, development)."""

    def __init__(
        self,
        repl_argv: Sequence[str],
        cwd: str | None = None,
        memory_mb: int = 0,
        max_uses: int = 200,
        max_rss_mb: float = 0,
    ):
        harness = resource_root() / "harness" / "lean"
        self._argv = [
            sys.executable,
            str(harness / "driver.py"),
            f"--memory-mb={memory_mb}",
            f"--max-uses={max_uses}",
            f"--max-rss-mb={max_rss_mb}",
        ]
        self._argv += list(repl_argv)
        self._cwd = cwd

    def launch(self) -> LaunchedToplevel:
        """The driver command; nothing to clean up beyond the process."""
        return LaunchedToplevel(argv=list(self._argv), cwd=self._cwd, cleanup=lambda: None, name="local-lean")


@dataclass(frozen=True)
class Answer:
    """A driver's reply to one command."""

    ok: bool
    response: ReplResponse
    env: str
    error: str
    detail: str
    seconds: float

    def messages(self, severity: str) -> list[Message]:
        """The REPL's messages of one severity."""
        return self.response.of_severity(severity)


class LeanSession:
    """One driver process with its REPL; not thread-safe (the pool serializes)."""

    def __init__(self, launcher: LeanLauncher, header: str, load_timeout_s: float) -> None:
        self._launcher = launcher
        self._header = header
        self._load_timeout_s = load_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._cleanup: Any = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.name = ""
        self.load_seconds = 0.0
        self._stopped = False
        # As HolLightSession's: a second close() (the reader's, on EOF) waits until the container is gone.
        self._lifecycle = threading.RLock()

    def start(self) -> None:
        """Start the driver; it loads the header before it says it is ready."""
        launched = self._launcher.launch()
        with self._lifecycle:  # close() sees the container and its process, or start() sees close()
            self._cleanup, self.name = launched.cleanup, launched.name
            if self._stopped:  # closed while its container was being made: do not leave it behind
                self.close()
                raise VerifierUnavailable("the checker was stopped while it started")
            try:
                proc = self._proc = subprocess.Popen(
                    launched.argv,
                    cwd=launched.cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    encoding="utf-8",
                )
            except OSError as exc:
                self.close()
                raise VerifierUnavailable(f"cannot start the Lean check driver: {exc}") from None
        # The reader is given the process: close() from another thread may clear self._proc before it runs.
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        t0 = time.monotonic()
        ready = self._ask({"op": "start", "header": self._header}, self._load_timeout_s, "loading the header")
        if ready.get("op") != "ready":
            self.close()
            raise VerifierUnavailable(f"the Lean checker did not start: {ready.get('detail', ready)}")
        if self._stopped:  # closed while it loaded: its "ready" may have been read all the same
            raise VerifierUnavailable("the Lean checker was stopped while it started")
        self.load_seconds = time.monotonic() - t0

    def _read(self, proc: subprocess.Popen[str]) -> None:
        """Hand on the driver's output lines, then None at its end (or once the pipe is closed under it)."""
        try:
            for line in proc.stdout or ():
                self._lines.put(line)
        except (OSError, ValueError):  # the pipe closed by another thread: the end, as EOF is
            pass
        self._lines.put(None)

    def _live(self) -> subprocess.Popen[str]:
        """The driver's process; one closed meanwhile (close() from another thread) is gone."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise VerifierUnavailable("the Lean checker was stopped")
        return proc

    def _ask(self, request: dict[str, Any], timeout_s: float, doing: str) -> dict[str, Any]:
        proc = self._live()
        try:
            assert proc.stdin is not None  # as _live() found it
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError) as exc:  # ValueError: its stdin closed by close() in another thread
            self.close()
            raise VerifierUnavailable(f"the Lean checker is gone ({exc})") from None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.close()
                raise VerifierUnavailable(
                    f"the Lean checker did not answer within {timeout_s:.0f} s while {doing}"
                ) from None
            if line is None:
                self.close()
                raise VerifierUnavailable(f"the Lean checker exited while {doing}")
            try:
                reply = json.loads(line)
            except json.JSONDecodeError:
                continue  # not the driver's: ignored
            if not isinstance(reply, dict):
                continue
            if reply.get("op") == "failed":
                self.close()
                raise VerifierUnavailable(f"the Lean checker failed: {reply.get('detail')}")
            if "id" not in request or reply.get("id") == request["id"]:
                return reply

    def run(self, cmd: str, env: str, timeout_s: float) -> Answer:
        """Run ``cmd`` on environment ``env`` ("header", or one a previous answer named)."""
        rid = secrets.token_hex(8)
        request = {"op": "run", "id": rid, "cmd": cmd, "env": env, "timeout_s": timeout_s}
        reply = self._ask(request, timeout_s + _REPLY_GRACE_S + self._load_timeout_s, "checking")
        return Answer(
            ok=bool(reply.get("ok")),
            response=ReplResponse.parse(reply.get("response")),
            env=str(reply.get("env", "")),
            error=str(reply.get("error", "")),
            detail=str(reply.get("detail", "")),
            seconds=float(reply.get("seconds", 0.0)),
        )

    def done(self) -> bool:
        """A check is over: the driver recycles its REPL now if it is due (never within a check)."""
        rid = secrets.token_hex(8)
        reply = self._ask({"op": "done", "id": rid}, _REPLY_GRACE_S + self._load_timeout_s, "recycling the REPL")
        return bool(reply.get("recycled"))

    def close(self) -> None:
        """Stop the driver (and its REPL); safe to call twice (from two threads), and before start() is done."""
        with self._lifecycle:
            self._stopped = True
            proc, self._proc = self._proc, None
            if proc is not None:
                try:
                    if proc.stdin is not None:
                        proc.stdin.close()
                except OSError:
                    pass
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.terminate()  # the driver takes its REPL's process group down with it
                    try:
                        proc.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            cleanup, self._cleanup = self._cleanup, None
            if cleanup is not None:
                cleanup()


_DRIVER_IN_IMAGE = "/opt/provebench/harness/lean/driver.py"


_REPL_IN_IMAGE = ["lake", "env", "/opt/repl/.lake/build/bin/repl"]


_PROJECT_IN_IMAGE = "/opt/mathlib"


class DockerLeanLauncher:
    """Starts each driver (and its REPL) in its own sandboxed container of the Lean image."""

    def __init__(self, engine: Any, image: Any, limits: Any, memory_mb: int, max_uses: int) -> None:
        self._engine, self._image, self._limits = engine, image, limits
        self._command = ["python3", _DRIVER_IN_IMAGE, f"--memory-mb={memory_mb}", f"--max-uses={max_uses}"]
        self._command += _REPL_IN_IMAGE

    def launch(self) -> LaunchedToplevel:
        """Create a container whose main process is the driver; attach to it."""
        cid = self._engine.create_checker(self._image, self._command, _PROJECT_IN_IMAGE, self._limits)
        return LaunchedToplevel(
            argv=self._engine.attach_argv(cid), cwd=None, cleanup=lambda: self._engine.remove(cid), name=cid
        )
