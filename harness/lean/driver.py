"""provebench Lean check driver: supervises one Lean REPL process inside the checker container.

Runs with the image's python3 and its standard library only. It starts the
REPL, runs the trusted header (the suite's imports, never a candidate's) as
the environment every check starts from, and runs commands with a wall-clock
limit: a command that overruns, or a REPL that dies, costs a kill and a
respawn (header included), never a wrong answer. The REPL is also recycled
after a number of commands or above a resident-memory cap, since it keeps
every environment it has made.

Protocol with provebench, one JSON object per line each way:
  {"op": "start", "header": TEXT}
      -> {"op": "ready", "generation": G, "seconds": S}  (or {"op": "failed", "detail": ...})
  {"op": "run", "id": ID, "cmd": TEXT, "env": "header" | ENV, "timeout_s": T}
      -> {"id": ID, "ok": true, "response": REPL_JSON, "env": ENV, "seconds": S}
       | {"id": ID, "ok": false, "error": "timeout" | "crashed" | "stale-env" | "repl-error", "detail": ..., ...}
  {"op": "done", "id": ID}  (a check is over: recycle the REPL now if it is due)
      -> {"id": ID, "ok": true, "recycled": BOOL}
ENV values are this driver's generation and the REPL's environment number
("G:N"): an environment from before a respawn is refused, not confused.

The REPL's own protocol (leanprover-community/repl): a JSON command followed
by a blank line in; a JSON object (Lean's pretty printer: it may span lines)
followed by a blank line out; {"message": ...} for an error.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from typing import Any


class ReplGone(Exception):
    """The REPL exited or closed its output."""


class Repl:
    """One REPL process and the environment its header made."""

    def __init__(self, argv: list[str], memory_mb: int) -> None:
        self.argv = argv
        self.memory_mb = memory_mb
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.header_env = -1

    def start(self) -> None:
        """Spawn the REPL with its memory limit, in its own process group."""

        def limits() -> None:
            os.setsid()  # its own process group, so a kill takes whatever it started
            if self.memory_mb > 0:
                size = self.memory_mb * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (size, size))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=limits
        )
        self.buffer = b""

    def kill(self) -> None:
        """Kill the REPL and whatever it started."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def rss_mb(self) -> float:
        """The REPL's resident memory."""
        if self.proc is None:
            return 0.0
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def ask(self, command: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """The REPL's answer to one command, or None if it overran the deadline."""
        self.send(json.dumps(command).encode() + b"\n\n")
        return self.receive(timeout_s)

    def send(self, data: bytes) -> None:
        """Write to the REPL's input as it is (a command and the blank line that ends it)."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ReplGone from None

    def receive(self, timeout_s: float) -> dict[str, Any] | None:
        """The REPL's next reply (JSON, then a blank line), or None if none came within ``timeout_s``."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        out = self.proc.stdout.fileno()
        while b"\n\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([out], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(out, 1 << 16)
            if not chunk:
                raise ReplGone
            self.buffer += chunk
            self.buffer = self.buffer.lstrip(b"\n")
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        return parse_response(block.decode("utf-8", errors="replace"))


def parse_response(block: str) -> dict[str, Any]:
    """The JSON object a response ends with (anything the REPL printed before it is skipped)."""
    lines = block.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                value = json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return {"message": "unreadable REPL output: " + block[:500]}


class Driver:
    """Runs commands on a REPL it keeps healthy."""

    def __init__(self, repl: Repl, max_uses: int, max_rss_mb: float, header_timeout_s: float) -> None:
        self.repl = repl
        self.max_uses = max_uses
        self.max_rss_mb = max_rss_mb
        self.header_timeout_s = header_timeout_s
        self.header = ""
        self.generation = 0
        self.uses = 0

    def restart(self) -> float:
        """A fresh REPL with the header run; the seconds it took."""
        t0 = time.monotonic()
        self.repl.kill()
        self.repl.start()
        self.generation += 1
        self.uses = 0
        answer = self.repl.ask({"cmd": self.header}, self.header_timeout_s)
        if answer is None:
            raise ReplGone("the header did not load in time")
        errors = [m for m in answer.get("messages", []) if m.get("severity") == "error"]
        if "env" not in answer or errors or "message" in answer:
            detail = answer.get("message") or "; ".join(str(m.get("data", "")) for m in errors)
            raise ReplGone(f"the header does not load: {detail}")
        self.repl.header_env = int(answer["env"])
        return time.monotonic() - t0

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """One command, with its wall-clock limit; a timeout or a crash costs a respawn."""
        rid = request.get("id")
        env = request.get("env", "header")
        if env == "header":
            env_number = self.repl.header_env
        else:
            generation, _, number = str(env).partition(":")
            if generation != str(self.generation) or not number.isdigit():
                return {"id": rid, "ok": False, "error": "stale-env", "detail": f"environment {env} is gone"}
            env_number = int(number)
        t0 = time.monotonic()
        try:
            answer = self.repl.ask({"cmd": str(request.get("cmd", "")), "env": env_number}, float(request["timeout_s"]))
        except ReplGone:
            seconds = time.monotonic() - t0
            self.recover()
            return {"id": rid, "ok": False, "error": "crashed", "detail": "the REPL exited", "seconds": seconds}
        seconds = time.monotonic() - t0
        if answer is None:
            self.recover()
            return {"id": rid, "ok": False, "error": "timeout", "seconds": seconds}
        self.uses += 1
        if "message" in answer and "env" not in answer:
            return {"id": rid, "ok": False, "error": "repl-error", "detail": answer["message"], "seconds": seconds}
        reply = {
            "id": rid,
            "ok": True,
            "response": answer,
            "env": f"{self.generation}:{answer.get('env')}",
            "seconds": seconds,
            "rss_mb": self.repl.rss_mb(),
        }
        return reply

    def recover(self) -> None:
        """A fresh REPL, or exit: a checker that cannot restart is broken."""
        try:
            self.restart()
        except ReplGone as exc:
            respond({"op": "failed", "detail": f"could not restart the REPL: {exc}"})
            sys.exit(3)

    def maybe_recycle(self) -> None:
        """Between checks: a fresh REPL after max_uses commands or above the RSS cap."""
        if self.uses >= self.max_uses or (self.max_rss_mb > 0 and self.repl.rss_mb() > self.max_rss_mb):
            self.recover()


def respond(obj: dict[str, Any]) -> None:
    """One line to provebench."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Serve requests until stdin closes."""
    ap = argparse.ArgumentParser(description="provebench Lean check driver")
    ap.add_argument("--memory-mb", type=int, default=12288, help="address-space limit of the REPL (0: none)")
    ap.add_argument("--max-uses", type=int, default=200, help="commands before the REPL is recycled")
    ap.add_argument("--max-rss-mb", type=float, default=0, help="recycle the REPL above this resident size")
    ap.add_argument("--header-timeout", type=float, default=600.0)
    ap.add_argument("repl", nargs=argparse.REMAINDER, help="the REPL command")
    args = ap.parse_args()
    repl = Repl(args.repl, args.memory_mb)
    driver = Driver(repl, args.max_uses, args.max_rss_mb, args.header_timeout)

    def stop(_signum: int, _frame: object) -> None:
        # The REPL runs in a process group of its own: take it down too, or it outlives the driver.
        repl.kill()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            respond({"ok": False, "error": "bad-request", "detail": "not JSON"})
            continue
        if request.get("op") == "start":
            driver.header = str(request.get("header", ""))
            try:
                seconds = driver.restart()
            except ReplGone as exc:
                respond({"op": "failed", "detail": str(exc)})
                sys.exit(3)
            respond({"op": "ready", "generation": driver.generation, "seconds": seconds})
        elif request.get("op") == "run":
            respond(driver.run(request))
        elif request.get("op") == "done":  # a check is over: its environments are no longer needed
            generation = driver.generation
            driver.maybe_recycle()
            respond({"id": request.get("id"), "ok": True, "recycled": driver.generation != generation})
        else:
            respond({"id": request.get("id"), "ok": False, "error": "bad-request", "detail": "unknown op"})
    driver.repl.kill()


if __name__ == "__main__":
    main()
