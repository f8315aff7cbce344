"""What a service answers is outside input to ``check --server`` too: a server that is not provebench's (or not
one to trust) answering JSON nested 100,000 deep gets one line and exit 3, not a RecursionError traceback.

The server is a real HTTP server on loopback (the standard library's), answering every request so.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench.cli.main import main

DEEP = 100_000


class _DeepJson(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b"[" * DEEP + b"]" * DEEP
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def deep_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DeepJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_reply_nested_100000_deep_is_one_line_and_exit_3(
    deep_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = tmp_path / "proof.ml"
    proof.write_text("ARITH_TAC")
    code = main(["check", "--server", deep_server, "--system", "hol-light", "--goal", "T", str(proof)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 3 and len(lines) == 1 and "nested too deep" in lines[0] and "Traceback" not in err, err
