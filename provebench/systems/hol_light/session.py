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
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pexpect
import pexpect.fdpexpect
from pydantic import BaseModel, ConfigDict, ValidationError

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Reason, Status

# Time a check may take beyond its own limit before the checker counts as hung.
_REPLY_GRACE_S = 30.0
# A silent load whose toplevel used at least this share of a core while watched (for up to _PROBE_S)
# is computing, not hung; two checkers on a busy machine each still get far more.
_BUSY_SHARE = 0.1
_PROBE_S = 30.0
_TAIL_CHARS = 2000
_READ_BYTES = 1 << 16
_HEADER_BYTES = 64  # longer than any frame header: KIND, a 16-hex-digit nonce, a length
_KEPT_BYTES = max(_TAIL_CHARS, _HEADER_BYTES) * 4


@dataclass(frozen=True)
class LaunchedToplevel:
    """How to talk to one started toplevel and how to clean it up."""

    argv: list[str]
    cwd: str | None
    cleanup: Callable[[], None]
    name: str = "local"  # the container's ID, for operators (and tests that break one on purpose)
    # Whether the sandbox's memory limit killed one of its processes since a Unix time (none on the host).
    out_of_memory_since: Callable[[float], bool] = lambda _since: False
    # CPU seconds the toplevel's processes have used so far, or None where that is not known (the host).
    cpu_seconds: Callable[[], float | None] = lambda: None


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
    goal: str = ""  # the goal a run-time expression computed, as the checker printed it
    detail: str = ""
    output: str = ""
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    proof_seconds: float | None = None  # CPU time of the proof itself, after it compiled (None: it never ran)


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


class Toplevel:
    """A started toplevel process; its output is read through pexpect, waiting in poll() (no busy loop)."""

    def __init__(self, argv: list[str], cwd: str | None) -> None:
        pipe = subprocess.PIPE
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=pipe, stdout=pipe, stderr=subprocess.STDOUT)
        assert self.proc.stdout is not None
        self._out = pexpect.fdpexpect.fdspawn(self.proc.stdout.fileno(), use_poll=True)

    def send(self, data: bytes) -> None:
        """Write all of ``data`` to the toplevel's stdin (OSError if it is gone)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self, timeout_s: float) -> bytes:
        """What the toplevel printed next (pexpect.TIMEOUT after ``timeout_s`` of silence, pexpect.EOF at its end)."""
        return bytes(self._out.read_nonblocking(_READ_BYTES, timeout=max(0.0, timeout_s)))

    def stop(self) -> None:
        """End the process: close its stdin, kill it if it is still running, and reap it."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def spawn(argv: list[str], cwd: str | None) -> Toplevel:
    """Start a toplevel process."""
    return Toplevel(argv, cwd)


class FrameBuffer:
    r"""A toplevel's output, searched for the reply frame ``KIND NONCE LENGTH\n`` followed by LENGTH bytes.

    Everything else in the stream is the toplevel's own printing (template text's values, a
    theorem's statement): megabytes during a long template load. The search goes on from
    where the last one stopped, and only a tail of that printing is kept, for messages. A
    frame's header is found wherever it falls in the data read (a read window, as pexpect's
    searchwindowsize, misses the header of a reply longer than the window when it comes in one read).
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._scanned = 0  # bytes of _data searched without finding the header
        self._header: tuple[bytes, int, int] | None = None  # (pattern, payload start, length) once found

    def feed(self, chunk: bytes) -> None:
        """Add output read from the toplevel."""
        self._data += chunk

    def take(self, kind: bytes, nonce: str) -> bytes | None:
        """The payload of the ``kind``/``nonce`` frame once it is whole (and the output before it dropped)."""
        pattern = re.escape(kind) + b" " + re.escape(nonce.encode()) + rb" (\d{1,15})\n"
        if self._header is None or self._header[0] != pattern:
            m = re.compile(pattern).search(self._data, max(0, self._scanned - _HEADER_BYTES))
            if m is None:
                self._scanned = len(self._data)
                if self._scanned > 2 * _KEPT_BYTES:  # printing that can hold no header: keep a tail for messages
                    del self._data[: self._scanned - _KEPT_BYTES]
                    self._scanned = _KEPT_BYTES
                return None
            self._header = (pattern, m.end(), int(m.group(1)))
        _, start, length = self._header
        if len(self._data) < start + length:
            return None
        payload = bytes(self._data[start : start + length])
        del self._data[: start + length]
        self._header, self._scanned = None, 0
        return payload

    def tail(self) -> str:
        """The end of what the toplevel printed since the last frame, on one line."""
        raw = bytes(self._data[-_TAIL_CHARS:])
        return raw.decode("utf-8", errors="replace").strip().replace("\n", " | ")


class HolLightSession:
    """A loaded HOL Light toplevel serving checks; not thread-safe (the pool serializes)."""

    def __init__(self, launcher: ToplevelLauncher, context: str, load_timeout_s: float) -> None:
        self._launcher = launcher
        self._context = context
        self._load_timeout_s = load_timeout_s
        self._proc: Toplevel | None = None
        self._frames = FrameBuffer()
        self._cleanup: Callable[[], None] | None = None
        self.info: ServerInfo | None = None
        self.load_seconds = 0.0
        self.name = ""
        self._stopped = False
        # close() may run in two threads at once: the caller's, and the loading thread's on the EOF the
        # first one causes. The lock makes the second wait until the container is gone, so that no caller
        # returns (and exits the process) while the other is still removing it.
        self._lifecycle = threading.RLock()
        self.out_of_memory_since: Callable[[float], bool] = lambda _since: False
        self.cpu_seconds: Callable[[], float | None] = lambda: None

    def start(self) -> ServerInfo:
        """Start the toplevel, load HOL Light, the context and the server; wait until ready."""
        t0 = time.monotonic()
        launched = self._launcher.launch()
        with self._lifecycle:  # close() sees the container and its process, or start() sees close()
            self._cleanup = launched.cleanup
            self.name = launched.name
            self.out_of_memory_since = launched.out_of_memory_since
            self.cpu_seconds = launched.cpu_seconds
            if self._stopped:  # closed while its container was being made: do not leave it behind
                self.close()
                raise VerifierUnavailable("the checker was stopped while it started")
            try:
                self._proc = spawn(launched.argv, launched.cwd)
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
        # Trusted text too (hol.ml, the suite's context): limited by silence without computing, as template loads.
        payload = self._read_frame(b"PBREADY", nonce, self._load_timeout_s, "loading HOL Light", while_printing=True)
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

    def exchange(self, line: str, payload: bytes, nonce: str, timeout_s: float, doing: str) -> bytes:
        """Send a request line (its nonce in it) and payload; the reply's bytes (proof sessions' requests)."""
        self._send(line.encode() + b"\n" + payload)
        return self._read_frame(b"PBRES", nonce, timeout_s, doing)

    def _live(self) -> Toplevel:
        """The toplevel's process; one closed meanwhile (close() from another thread, mid-load) is gone."""
        proc = self._proc
        if proc is None:
            raise VerifierUnavailable("the HOL Light checker was stopped")
        return proc

    def _send(self, data: bytes) -> None:
        proc = self._live()
        try:
            proc.send(data)
        except OSError as exc:
            tail = self._frames.tail()
            self.close()
            raise VerifierUnavailable(f"the HOL Light checker is gone ({exc}); last output: {tail}") from None

    def _read_frame(self, kind: bytes, nonce: str, timeout_s: float, doing: str, while_printing: bool = False) -> bytes:
        r"""Wait for ``<kind> <nonce> <n>\n`` and return the n bytes after it.

        With ``while_printing`` (trusted text: HOL Light, a context, a template), the wait goes on as long as the
        toplevel prints something at least every ``timeout_s``, or computes: a long file is
        slow, not hung (s2n-bignum's EC libraries prove for over 15 minutes without a word).
        """
        proc = self._live()
        deadline = time.monotonic() + timeout_s
        probe: tuple[float, float] | None = None  # when a silent spell's CPU watch began, and the CPU time then
        while (payload := self._frames.take(kind, nonce)) is None:
            try:
                self._frames.feed(proc.read(deadline - time.monotonic()))
            except pexpect.TIMEOUT:
                # Silent for timeout_s: computing, or hung? The CPU time is asked for only now (it costs a
                # call to the engine): watched for a while, at least a tenth of a core means computing.
                now, cpu = time.monotonic(), (self.cpu_seconds() if while_printing else None)
                if cpu is not None and probe is None:
                    probe, deadline = (now, cpu), now + min(timeout_s, _PROBE_S)
                    continue
                if cpu is not None and probe is not None and cpu - probe[1] >= _BUSY_SHARE * (now - probe[0]):
                    probe, deadline = None, now + timeout_s
                    continue
                tail = self._frames.tail()
                self.close()
                if not while_printing:
                    waited = f"did not answer within {timeout_s:.0f} s"
                elif probe is None:
                    waited = f"printed nothing for {timeout_s:.0f} s"
                else:
                    waited = f"printed nothing for {timeout_s:.0f} s, then computed little for {now - probe[0]:.0f} s,"
                raise VerifierUnavailable(f"HOL Light {waited} while {doing}; last output: {tail}") from None
            except (pexpect.EOF, OSError):  # OSError: close() in another thread shut its output
                tail, stopped = self._frames.tail(), self._stopped
                self.close()
                if stopped:
                    raise VerifierUnavailable(f"the checker was stopped while {doing}") from None
                raise VerifierUnavailable(f"HOL Light exited while {doing}; last output: {tail}") from None
            if while_printing:
                probe, deadline = None, time.monotonic() + timeout_s
        return payload

    def close(self) -> None:
        """Stop the toplevel and remove its container; safe to call twice (from two threads), and before start()."""
        with self._lifecycle:
            self._stopped = True
            proc, self._proc = self._proc, None
            if proc is not None:
                try:
                    proc.stop()
                except Exception:  # noqa: BLE001 - best effort during teardown
                    pass
            cleanup, self._cleanup = self._cleanup, None
            if cleanup is not None:
                cleanup()
