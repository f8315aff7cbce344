"""``provebench report`` and ``view``: a run's summary from its journal, as tables or as its HTML page."""

from __future__ import annotations

import argparse
import http.server
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provebench.boards import pages
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_OK
from provebench.core.errors import UserError
from provebench.core.outputs import guard_output, write_atomic
from provebench.core.settings import Settings
from provebench.runs.report import summary_tables
from provebench.runs.run import RunDir, summarize_run
from provebench.runs.stats import Summary

REPORT_FILE = "report.html"


def print_summary(summary: Summary, title: str, as_json: bool) -> None:
    """A run's summary: its tables, or JSON."""
    if as_json:
        print(json.dumps(summary.model_dump(mode="json"), indent=2))
        return
    for table in summary_tables(summary, title):
        out.print(table)


def cmd_report(args: argparse.Namespace, _settings: Settings) -> int:
    """``provebench report RUNDIR``: the summary recomputed from the journal (or the HTML report)."""
    if args.out and not args.html:
        raise UserError("--out goes with --html")
    if args.html:
        return write_report(args.rundir, args.out)
    rundir = RunDir.existing(Path(args.rundir))
    config = rundir.config()
    summary = summarize_run(rundir, config)
    manifest = rundir.read_manifest()
    print_summary(summary, f"{manifest.suite.name} / {manifest.prover.get('name', '?')}", args.json)
    return EXIT_OK


def cmd_view(args: argparse.Namespace, _settings: Settings) -> int:
    """``provebench view RUNDIR``: its HTML report served on this machine until interrupted."""
    return serve_report(args.rundir, args.port)


def write_report(rundir_arg: str, target: str | None) -> int:
    """``provebench report RUNDIR --html``."""
    rundir = RunDir.existing(Path(rundir_arg))
    path = guard_output(Path(target) if target else rundir.path / REPORT_FILE, rundir.files(), "report")
    write_atomic(path, pages.render_run_report(rundir))
    out.print(f"wrote {path}", markup=False)
    return EXIT_OK


class _ReportServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rundir: RunDir, port: int) -> None:
        self.rundir = rundir
        self._lock = threading.Lock()
        self._cached: tuple[tuple[float, int], bytes] | None = None
        super().__init__(("127.0.0.1", port), _ReportHandler)

    def page(self) -> bytes:
        """The report, rendered again when the journal has changed."""
        st = self.rundir.journal_path.stat() if self.rundir.journal_path.exists() else None
        stamp = (st.st_mtime, st.st_size) if st else (0.0, 0)
        with self._lock:
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, pages.render_run_report(self.rundir).encode("utf-8"))
            return self._cached[1]


class _ReportHandler(http.server.BaseHTTPRequestHandler):
    server: _ReportServer

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        if self.path.split("?")[0] not in ("/", f"/{REPORT_FILE}"):
            self.send_error(404, "only the report is served here")
            return
        try:
            body = self.server.page()
        except UserError as exc:
            self.send_error(500, str(exc))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the hook's signature
        pass  # quiet: the terminal shows the URL, not every request


def serve_report(rundir_arg: str, port: int, ready: Callable[[str], None] | None = None) -> int:
    """``provebench view RUNDIR``: serve until interrupted."""
    rundir = RunDir.existing(Path(rundir_arg))
    pages.render_run_report(rundir)  # a broken run directory fails here, with one line, before serving
    try:
        server = _ReportServer(rundir, port)
    except OSError as exc:
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    err.print(f"serving the report of {rundir.path} at {url} (Ctrl-C to stop)", markup=False)
    if ready is not None:
        ready(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
