"""``provebench submit`` and ``leaderboard add|republish|verify|render``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from provebench.boards import bundle, exports, pages
from provebench.boards.add import AddHooks, add_entry
from provebench.boards.board import Board, EntryRefused
from provebench.boards.maintenance import MaintenanceHooks, audit, republish
from provebench.cli import images
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_OK, EXIT_REFUSED
from provebench.core.errors import UserError
from provebench.core.inputs import first_error
from provebench.core.outputs import guard_output, write_atomic
from provebench.core.settings import Settings
from provebench.runs.run import RunDir


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench submit``."""
    rundir = RunDir.existing(Path(args.rundir))
    if args.format == "s2n-bignum-bench":
        if args.name or args.contact or args.open_data:
            raise UserError(
                "--name, --contact and --open-data are for provebench bundles, not --format s2n-bignum-bench"
            )
        target = guard_output(Path(args.out) if args.out else rundir.path / "answers.zip", rundir.files(), "answers")
        rows = exports.write_s2n_bignum_bench_zip(rundir, target, settings.suites_dir)
        out.print(f"wrote {target}: {rows} answers in the s2n-bignum-bench leaderboard's CSV, zipped", markup=False)
        return EXIT_OK
    missing = [f"--{n.replace('_', '-')}" for n in ("name", "contact", "open_data") if not getattr(args, n)]
    if missing:
        raise UserError(f"a submission bundle needs {', '.join(missing)}")
    target = guard_output(Path(args.out) if args.out else rundir.path / "submission.tar.gz", rundir.files(), "bundle")
    try:
        submitter = bundle.Submitter(name=args.name, contact=args.contact, open_data=args.open_data)
    except ValidationError as exc:
        where, msg = first_error(exc)
        raise UserError(f"--{where.replace('_', '-')}: {msg}") from None
    manifest = bundle.pack(rundir, target, submitter)
    bundle.read_bundle(target)  # the bundle a maintainer will read: refuse to hand out one that does not validate
    out.print(
        f"wrote {target}: {manifest.attempts.count} attempts of {len(manifest.problems)} problems, "
        f"suite {manifest.suite.name} {manifest.suite.content_hash[:19]}..., open data {submitter.open_data}",
        markup=False,
    )
    return EXIT_OK


def cmd_leaderboard(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench leaderboard add|republish|verify|render``."""
    board = Board(Path(args.board))
    if args.leaderboard_command == "render":
        return _render(board, settings)
    if args.leaderboard_command == "republish":
        return _republish(board, settings)
    if args.leaderboard_command == "verify":
        return _verify(board, args, settings)
    if args.sample is not None and not 0 <= args.sample <= 1:
        raise UserError("--sample is a fraction between 0 and 1")
    with _AddProgress(err) as (status, checked):
        try:
            entry = add_entry(
                Path(args.bundle),
                board.path,
                settings,
                AddHooks(status=status, checked=checked, images=lambda names: images.ensure_images(settings, names)),
                sample_fraction=args.sample,
            )
        except EntryRefused as exc:
            err.print(f"provebench: {exc}", markup=False)
            for line in exc.report:
                err.print(f"  {line}", markup=False)
            return EXIT_REFUSED
    r = entry.reverification
    out.print(
        f"added {entry.id!r} to {board.path}: solved {entry.stats.solved}/{entry.stats.problems}; re-verified "
        f"{r.checked} attempts ({r.claimed_pass} claimed PASS, {r.others_sampled} of {r.others} others), all "
        f"reproduced. Render with: provebench leaderboard render --board {board.path}",
        markup=False,
    )
    return EXIT_OK


def _republish(board: Board, settings: Settings) -> int:
    with _AddProgress(err) as (status, checked):
        hooks = MaintenanceHooks(status, checked, lambda names: images.ensure_images(settings, names))
        report = republish(board.path, settings, hooks)
    for o in report.outcomes:
        if o.skipped:
            out.print(f"{o.entry}: {o.skipped}", markup=False)
        else:
            out.print(f"{o.entry}: {o.reproduced} of {o.checked} re-verified verdicts reproduced", markup=False)
            for line in o.mismatches:
                out.print(f"  {line}", markup=False)
    pins = ", ".join(f"{c.recipe} {c.version} packages {c.packages}" for c in report.pins)
    out.print(f"{board.path}: pinned to {pins}", markup=False)
    waiting = [o.entry for o in report.resubmit] + [o.entry for o in report.not_reproduced]
    if waiting:
        out.print(f"need resubmission (kept, not ranked): {', '.join(waiting)}", markup=False)
    return _render(board, settings)


def _verify(board: Board, args: argparse.Namespace, settings: Settings) -> int:
    if not 0 < args.sample <= 1:
        raise UserError("--sample is a fraction above 0, at most 1")
    with _AddProgress(err) as (status, checked):
        hooks = MaintenanceHooks(status, checked, lambda names: images.ensure_images(settings, names))
        report = audit(board.path, settings, args.sample, args.seed, hooks)
    if report.pin_note:
        err.print(f"note: {report.pin_note}; verdicts may differ from the board's", markup=False)
    for o in report.outcomes:
        if o.skipped:
            out.print(f"{o.entry}: {o.skipped}", markup=False)
            continue
        out.print(f"{o.entry}: {o.reproduced} of {o.checked} published PASS proofs reproduced", markup=False)
        for line in o.mismatches:
            out.print(f"  {line}", markup=False)
    return EXIT_OK if report.all_reproduced else EXIT_REFUSED


def _render(board: Board, settings: Settings) -> int:
    if not board.path.is_dir():
        raise UserError(f"{board.path}: no such board folder")
    pages_out = [guard_output(board.path / name, (), "board page") for name in ("index.html", "README.md")]
    for path, text in zip(pages_out, pages.render_board(board, settings.suites_dir), strict=True):
        write_atomic(path, text)
    out.print(f"wrote {board.path / 'index.html'} and {board.path / 'README.md'}", markup=False)
    return EXIT_OK


class _AddProgress:
    """A progress bar on stderr for re-verification (status lines without a terminal)."""

    def __init__(self, err: Console) -> None:
        self._err = err
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> tuple[Callable[[str], None], Callable[[int, int], None]]:
        return self._status, self._checked

    def _status(self, text: str) -> None:
        self._err.print(f"[dim]{text}...[/]")

    def _checked(self, done: int, total: int) -> None:
        if not self._err.is_terminal:
            if total and (done == total or done % 50 == 0):
                self._err.print(f"re-verified {done}/{total}", markup=False)
            return
        if self._bar is None:
            self._bar = Progress(
                TextColumn("re-verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=self._err
            )
            self._bar.start()
            self._task = self._bar.add_task("re-verify", total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
