"""One warm HOL Light checker: a toplevel with the check server loaded, driven with pexpect.

The transport is injected: a ``ToplevelLauncher`` says which command starts a
toplevel (``docker start --attach`` of a sandboxed container, or the host's
own HOL Light) and where the harness is as that toplevel sees it. The
protocol is the one in ``harness/hol_light/server.ml``: length-framed
requests and responses carrying a fresh random nonce, so nothing a proof
prints can pass for a response.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pexpect
import pexpect.popen_spawn
from pydantic import BaseModel, ConfigDict, ValidationError

from provebench.errors import VerifierUnavailable
from provebench.model import Reason, Status

# Time a check may take beyond its own limit before the checker counts as hung.
_REPLY_GRACE_S = 30.0
_TAIL_CHARS = 2000


@dataclass(frozen=True)
class LaunchedToplevel:
    """How to talk to one started toplevel and how to clean it up."""

    argv: list[str]
    cwd: str | None
    cleanup: Callable[[], None]
    name: str = "local"  # the container's ID, for operators (and tests that break one on purpose)
    # Whether the sandbox's memory limit killed one of its processes since a Unix time (none on the host).
    out_of_memory_since: Callable[[float], bool] = lambda _since: False


class ToplevelLauncher(Protocol):
    """Starts HOL Light toplevels (in a container, or on the host)."""

    harness_dir: str

    def launch(self) -> LaunchedToplevel:
        """Prepare one toplevel process; the caller spawns ``argv``."""
        ...


class ServerReply(BaseModel):
    """A check result as the server reports it; unknown values are a protocol error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    reason: Reason
    detail: str = ""
    output: str = ""
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


class SeekReply(BaseModel):
    """The outcome of evaluating a slice of a template in the server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    seconds: float = 0.0
    error: str = ""


class ServerInfo(BaseModel):
    """What the server says about itself when it is ready."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    hol_version: str
    ocaml_version: str
    axioms: int


def _ocaml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spawn(argv: list[str], cwd: str | None, timeout_s: float) -> pexpect.popen_spawn.PopenSpawn:
    """The toplevel's process, read through pexpect with a bounded search window (long outputs stay cheap)."""
    return pexpect.popen_spawn.PopenSpawn(argv, cwd=cwd, timeout=timeout_s, maxread=65536, searchwindowsize=8192)


class HolLightSession:
    """A loaded HOL Light toplevel serving checks; not thread-safe (the pool serializes)."""

    def __init__(self, launcher: ToplevelLauncher, context: str, load_timeout_s: float) -> None:
        self._launcher = launcher
        self._context = context
        self._load_timeout_s = load_timeout_s
        self._proc: pexpect.popen_spawn.PopenSpawn | None = None
        self._cleanup: Callable[[], None] | None = None
        self.info: ServerInfo | None = None
        self.load_seconds = 0.0
        self.name = ""
        self._stopped = False
        self.out_of_memory_since: Callable[[float], bool] = lambda _since: False

    def start(self) -> ServerInfo:
        """Start the toplevel, load HOL Light, the context and the server; wait until ready."""
        t0 = time.monotonic()
        launched = self._launcher.launch()
        self._cleanup = launched.cleanup
        self.name = launched.name
        self.out_of_memory_since = launched.out_of_memory_since
        if self._stopped:  # closed while its container was being made: do not leave it behind
            self.close()
            raise VerifierUnavailable("the checker was stopped while it started")
        try:
            self._proc = spawn(launched.argv, launched.cwd, self._load_timeout_s)
        except OSError as exc:
            self.close()
            raise VerifierUnavailable(f"cannot start the HOL Light toplevel: {exc}") from None
        nonce = secrets.token_hex(8)
        harness = self._launcher.harness_dir
        script = (
            "set_color_printer false;;\n"
            + (self._context.rstrip() + "\n" if self._context.strip() else "")
            + f"#directory {_ocaml_string(harness)};;\n"
            + f"#use {_ocaml_string(harness + '/server.ml')};;\n"
            + f"pb_serve {_ocaml_string(nonce)};;\n"
        )
        self._send(script.encode())
        payload = self._read_frame(b"PBREADY", nonce, self._load_timeout_s, "loading HOL Light")
        try:
            self.info = ServerInfo.model_validate_json(payload)
        except ValidationError:
            self.close()
            raise VerifierUnavailable(f"the check server sent an unreadable greeting: {payload[:200]!r}") from None
        self.load_seconds = time.monotonic() - t0
        return self.info

    @property
    def alive(self) -> bool:
        """Whether the toplevel process is still running."""
        return self._proc is not None and self._proc.proc.poll() is None

    def seek(self, text: str, timeout_s: float) -> SeekReply:
        """Evaluate trusted template text in the server, moving its position forward."""
        nonce = secrets.token_hex(8)
        data = text.encode()
        self._send(f"PBSEEK {nonce} {len(data)}\n".encode() + data)
        return self._ack(nonce, timeout_s, "loading a template", while_printing=True)

    def hold(self, key: str) -> None:
        """Leave a holder at the current position, for checks that name ``key``."""
        nonce = secrets.token_hex(8)
        self._send(f"PBHOLD {nonce} {key}\n".encode())
        self._ack(nonce, _REPLY_GRACE_S, "forking a holder")

    def drop(self, key: str) -> None:
        """End the holder at ``key`` (one this process left)."""
        nonce = secrets.token_hex(8)
        self._send(f"PBDROP {nonce} {key}\n".encode())
        self._ack(nonce, _REPLY_GRACE_S, "ending a holder")

    def walk(self) -> None:
        """Fork a walker that serves from here on while this process waits at the current position."""
        nonce = secrets.token_hex(8)
        self._send(f"PBWALK {nonce}\n".encode())
        self._ack(nonce, _REPLY_GRACE_S, "forking a walker")

    def end_walk(self) -> None:
        """End the current walker (and its holders): its parent serves again, where it waited."""
        nonce = secrets.token_hex(8)
        self._send(f"PBEND {nonce}\n".encode())
        ended = self._ack(nonce, _REPLY_GRACE_S, "ending a walker")
        if not ended.ok:
            self.close()
            raise VerifierUnavailable(f"the check server could not end a walker: {ended.error}")

    def _ack(self, nonce: str, timeout_s: float, doing: str, while_printing: bool = False) -> SeekReply:
        payload = self._read_frame(b"PBACK", nonce, timeout_s, doing, while_printing)
        try:
            return SeekReply.model_validate_json(payload)
        except ValidationError:
            self.close()
            raise VerifierUnavailable(f"the check server sent an unreadable reply: {payload[:200]!r}") from None

    def check(self, goal: str, proof: str, wall_s: float, memory_mb: int, key: str | None = None) -> ServerReply:
        """Check one proof of ``goal`` (from the holder at ``key``, in template mode)."""
        nonce = secrets.token_hex(8)
        goal_b, proof_b = goal.encode(), proof.encode()
        prefix = f"PBREQ {nonce}" if key is None else f"PBREQK {nonce} {key}"
        header = f"{prefix} {max(1, int(wall_s * 1000))} {memory_mb} {len(goal_b)} {len(proof_b)}\n"
        self._send(header.encode() + goal_b + proof_b)
        payload = self._read_frame(b"PBRES", nonce, wall_s + _REPLY_GRACE_S, "checking a proof")
        try:
            return ServerReply.model_validate(json.loads(payload.decode("utf-8", errors="replace")))
        except (ValueError, ValidationError):
            self.close()
            raise VerifierUnavailable(f"the check server sent an unreadable reply: {payload[:200]!r}") from None

    def _send(self, data: bytes) -> None:
        assert self._proc is not None
        try:
            self._proc.send(data)
        except OSError as exc:
            tail = self._tail()
            self.close()
            raise VerifierUnavailable(f"the HOL Light checker is gone ({exc}); last output: {tail}") from None

    def _read_frame(self, kind: bytes, nonce: str, timeout_s: float, doing: str, while_printing: bool = False) -> bytes:
        r"""Wait for ``<kind> <nonce> <n>\\n`` and return the n bytes after it.

        With ``while_printing`` (trusted template text), the wait goes on as long as the
        toplevel prints something at least every ``timeout_s``: a long file is slow, not hung.
        """
        proc = self._proc
        assert proc is not None
        pattern = re.compile(re.escape(kind) + b" " + nonce.encode() + rb" (\d+)\n")
        try:
            printed = 0  # bytes since the last reply (pexpect's `before`; its `buffer` is only the search window)
            while proc.expect([pattern, pexpect.TIMEOUT], timeout=timeout_s) == 1:
                if not while_printing or len(proc.before or b"") == printed:
                    raise pexpect.TIMEOUT("no reply")
                printed = len(proc.before or b"")
            assert proc.match is not None and not isinstance(proc.match, type(pexpect.EOF))
            size = int(proc.match.group(1))
            data = bytes(proc.buffer)
            deadline = time.monotonic() + timeout_s
            while len(data) < size:
                data += proc.read_nonblocking(65536, timeout=max(0.1, deadline - time.monotonic()))
        except pexpect.TIMEOUT:
            tail = self._tail()
            self.close()
            raise VerifierUnavailable(
                f"HOL Light {'printed nothing for' if while_printing else 'did not answer within'} {timeout_s:.0f} s "
                f"while {doing}; last output: {tail}"
            ) from None
        except pexpect.EOF:
            tail = self._tail()
            self.close()
            raise VerifierUnavailable(f"HOL Light exited while {doing}; last output: {tail}") from None
        proc.buffer = data[size:]
        return data[:size]

    def _tail(self) -> str:
        if self._proc is None:
            return ""
        raw = bytes(self._proc.before or b"") + bytes(self._proc.buffer or b"")
        return raw[-_TAIL_CHARS:].decode("utf-8", errors="replace").strip().replace("\n", " | ")

    def close(self) -> None:
        """Stop the toplevel and remove its container; safe to call twice, and before start() is done."""
        self._stopped = True
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.sendeof()
            except OSError:
                pass
            if proc.proc.poll() is None:
                proc.kill(9)
            try:
                proc.wait()
            except Exception:  # noqa: BLE001 - best effort during teardown
                pass
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup()
