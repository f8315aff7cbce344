"""How long the client waits for the check server: a template load goes on while the toplevel prints.

The toplevel here is a small script that speaks the server's framing (a test double of the
wire only; the real server is tested in tests/integration).
"""

from __future__ import annotations

import sys

import pytest

from provebench.errors import VerifierUnavailable
from provebench.verify.hol_session import HolLightSession, spawn

# Reads one PBSEEK request, prints a line every 0.2 s for `busy` seconds (or stays silent), then acks.
FAKE_SERVER = r"""
import json, sys, time
header = sys.stdin.buffer.readline().split()
nonce, size = header[1].decode(), int(header[2])
sys.stdin.buffer.read(size)
busy, prints = float(sys.argv[1]), sys.argv[2] == "prints"
end = time.monotonic() + busy
while time.monotonic() < end:
    if prints:  # theorems print long: more than pexpect's search window each time
        print("val LEMMA : thm = |- " + "x" * 20000, flush=True)
    time.sleep(0.2)
body = json.dumps({"ok": True, "seconds": busy}).encode()
sys.stdout.buffer.write(b"PBACK " + nonce.encode() + b" " + str(len(body)).encode() + b"\n" + body)
sys.stdout.flush()
"""


def _session(busy: float, mode: str) -> HolLightSession:
    session = HolLightSession(launcher=None, context="", load_timeout_s=1.0)  # type: ignore[arg-type]
    session._proc = spawn([sys.executable, "-c", FAKE_SERVER, str(busy), mode], None, 1.0)  # as start() does
    return session


def test_a_template_load_that_keeps_printing_is_waited_for_past_the_limit() -> None:
    session = _session(busy=2.5, mode="prints")
    reply = session.seek("let x = 1;;\n", timeout_s=1.0)
    assert reply.ok and reply.seconds == 2.5
    session.close()


def test_a_silent_template_load_stops_at_the_limit() -> None:
    session = _session(busy=5.0, mode="silent")
    with pytest.raises(VerifierUnavailable, match="printed nothing for 1 s while loading a template"):
        session.seek("let x = 1;;\n", timeout_s=1.0)
