"""How long the client waits for the check server: a template load goes on while the toplevel prints.

The toplevel here is a small script that speaks the server's framing (a test double of the
wire only; the real server is tested in tests/integration).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.systems.hol_light.session import FrameBuffer, HolLightSession, spawn

# Says it is up, reads one PBSEEK request, prints a line every 0.05 s for `busy` seconds (or stays silent),
# then acks. Against the tests' 1 s limit, a loaded machine may hold the printing up for 0.95 s.
FAKE_SERVER = r"""
import json, sys, time
print("ready", flush=True)
header = sys.stdin.buffer.readline().split()
nonce, size = header[1].decode(), int(header[2])
sys.stdin.buffer.read(size)
busy, prints = float(sys.argv[1]), sys.argv[2] == "prints"
end = time.monotonic() + busy
while time.monotonic() < end:
    if prints:  # theorems print long: more than pexpect's search window each time
        print("val LEMMA : thm = |- " + "x" * 20000, flush=True)
    if sys.argv[2] == "computes":  # proving, silently
        continue
    time.sleep(0.05)
reply = {"ok": True, "seconds": busy}
if sys.argv[2] == "long-reply":  # a reply far longer than one read, written at once after a theorem's printing
    reply["error"] = "goal: " + "x" * 300000
    sys.stdout.buffer.write(b"val LEMMA : thm = |- T\n")
body = json.dumps(reply).encode()
sys.stdout.buffer.write(b"PBACK " + nonce.encode() + b" " + str(len(body)).encode() + b"\n" + body)
sys.stdout.flush()
"""


def _session(busy: float, mode: str) -> HolLightSession:
    session = HolLightSession(launcher=None, context="", load_timeout_s=1.0)  # type: ignore[arg-type]
    session._proc = proc = spawn([sys.executable, "-c", FAKE_SERVER, str(busy), mode], None)  # as start() does
    # The limits are timed from the request: the interpreter's start, slow on a loaded machine, is over first.
    said = b""
    deadline = time.monotonic() + 60
    while b"ready\n" not in said:
        said += proc.read(deadline - time.monotonic())  # pexpect.TIMEOUT: it did not start within 60 s
    session.cpu_seconds = lambda: _cpu_seconds(proc.proc.pid)  # as a container's cgroup counts it
    return session


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_template_load_that_keeps_printing_is_waited_for_past_the_limit() -> None:
    session = _session(busy=2.5, mode="prints")
    asked: list[float | None] = []
    cpu = session.cpu_seconds

    def counted() -> float | None:
        asked.append(cpu())
        return asked[-1]

    session.cpu_seconds = counted
    reply = session.seek("let x = 1;;\n", timeout_s=1.0)
    assert reply.ok and reply.seconds == 2.5
    assert asked == []  # the engine is asked for CPU time only after a silence, not per load
    session.close()


def test_a_silent_template_load_that_computes_is_waited_for_past_the_limit() -> None:
    session = _session(busy=3.5, mode="computes")
    reply = session.seek("let x = 1;;\n", timeout_s=1.0)
    assert reply.ok and reply.seconds == 3.5
    session.close()


def test_a_silent_template_load_that_does_not_compute_stops_at_the_limit() -> None:
    session = _session(busy=5.0, mode="silent")
    with pytest.raises(
        VerifierUnavailable, match="printed nothing for 1 s, then computed little for 1 s, while loading a template"
    ):
        session.seek("let x = 1;;\n", timeout_s=1.0)


def test_without_cpu_figures_a_silent_load_stops_at_the_limit() -> None:
    session = _session(busy=3.5, mode="computes")
    session.cpu_seconds = lambda: None  # the host backend: the engine's figures are not there
    with pytest.raises(VerifierUnavailable, match="printed nothing for 1 s while loading a template"):
        session.seek("let x = 1;;\n", timeout_s=1.0)


def test_a_reply_longer_than_a_read_is_found_whole() -> None:
    session = _session(busy=0.0, mode="long-reply")
    reply = session.seek("let x = 1;;\n", timeout_s=5.0)
    assert reply.ok and reply.error == "goal: " + "x" * 300000
    session.close()


def test_frames_are_found_across_reads_and_printing_is_not_kept_whole() -> None:
    frames = FrameBuffer()
    nonce = "0123456789abcdef"
    printing = b"Stepping to state s1\n" * 50000  # a megabyte of a template's own printing
    body = b'{"ok":true}'
    stream = printing + b"PBACK " + nonce.encode() + b" " + str(len(body)).encode() + b"\n" + body + b"PBACK next"
    got = None
    for i in range(0, len(stream), 1000):  # the header is split across reads too
        frames.feed(stream[i : i + 1000])
        got = got or frames.take(b"PBACK", nonce)
        assert len(frames._data) < 20000  # only a tail of the printing is kept
    assert got == body
    assert frames.take(b"PBACK", "fedcba9876543210") is None and frames.tail() == "PBACK next"
    assert frames.take(b"PBRES", nonce) is None  # a frame of another kind or nonce is never taken
