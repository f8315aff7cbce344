"""``provebench check``: one proof or a batch on this machine's checkers, and how a verdict is printed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from provebench.checking.engine import Engine, starting_line
from provebench.cli import images
from provebench.cli.consoles import err, out
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_OK, EXIT_VERDICT
from provebench.cli.verdict_text import verdict_lines
from provebench.core.errors import UserError
from provebench.core.model import Status, System, Verdict
from provebench.core.settings import Settings
from provebench.core.texts import read_proof
from provebench.suites import check_requests as checking


def engine_for(settings: Settings) -> Engine:
    """The engine of a command, saying when its checkers start (or that a service checks)."""
    return Engine(settings, on_start=lambda system: err.print(starting_line(settings, system) + "...", style="dim"))


def verdict_json(verdict: Verdict, item_id: Any) -> dict[str, Any]:
    """The JSON shape of a verdict on the command line."""
    return {"id": item_id, **verdict.model_dump(mode="json")}


def print_verdict(verdict: Verdict, label: str) -> None:
    """A verdict as ``check`` prints it."""
    first, *rest = verdict_lines(verdict.model_dump(mode="json"), label)
    colour = {Status.PASS: "green", Status.FAIL: "red", Status.TIMEOUT: "yellow"}.get(verdict.status, "magenta")
    status, _, tail = first.partition(" ")
    out.print(f"[bold {colour}]{status}[/] {tail}", highlight=False)
    for line in rest:
        out.print(line, markup=False)


def exit_for(verdicts: Sequence[Verdict]) -> int:
    """0 if every verdict is PASS, 3 if any is ERROR, else 1."""
    if any(v.status is Status.ERROR for v in verdicts):
        return EXIT_INFRA
    return EXIT_OK if all(v.status is Status.PASS for v in verdicts) else EXIT_VERDICT


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench check``: one proof or a batch, on this machine's checkers (or through ``--server``)."""
    suite = checking.load_suite_arg(args.suite, settings) if args.suite else None
    system = System(args.system) if args.system else None
    if args.batch:
        items = checking.parse_batch(args.batch, suite, system, args.timeout)
        images.ensure_images(settings, {it.problem.checker_image for it in items})
        engine = engine_for(settings)
        try:
            verdicts = []
            pairs = [(it.problem, it.proof) for it in items]
            for it, v in zip(items, engine.map(pairs, args.timeout), strict=False):
                verdicts.append(v)
                print(json.dumps(verdict_json(v, it.id)), flush=True)
        finally:
            engine.close()
        return exit_for(verdicts)
    if "checkers" not in settings.model_fields_set:
        settings = settings.model_copy(update={"checkers": 1})  # one proof: one checker to load
    if suite is not None:
        if not args.problem:
            raise UserError("--suite needs --problem (or use --batch)")
        problem = suite.problem(args.problem)
    elif system is not None and args.goal is not None:
        problem = checking.adhoc_problem(system, args.goal, args.timeout)
    else:
        raise UserError("say what to prove: --suite NAME --problem ID, or --system SYSTEM --goal TERM")
    limit = settings.max_proof_bytes
    proof = read_proof(args.proof, limit, lambda: sys.stdin.buffer.read(limit + 1))
    images.ensure_images(settings, {problem.checker_image})
    engine = engine_for(settings)
    try:
        verdict = engine.check(problem, proof, args.timeout).verdict
    finally:
        engine.close()
    if args.json:
        print(json.dumps(verdict_json(verdict, problem.id)))
    else:
        print_verdict(verdict, problem.id)
    return exit_for([verdict])
