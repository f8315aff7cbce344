"""``provebench check --server URL`` of one proof: a request to the service and its verdict printed.

This path imports only the standard library (and provebench's own light modules), so that the whole
command, process start included, takes a small fraction of a second: the checkers are already warm.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from provebench.checking.service_client import TOKEN_ENV, ServiceClient, server_url
from provebench.cli.exit_codes import EXIT_INFRA, EXIT_OK, EXIT_VERDICT
from provebench.cli.verdict_text import verdict_lines
from provebench.core.bounded import MAX_INPUT_BYTES
from provebench.core.errors import UserError
from provebench.core.texts import read_proof

DEFAULT_MAX_PROOF_BYTES = 1_000_000  # settings.Settings.max_proof_bytes; the service enforces its own too
_COLOURS = {"PASS": "32", "FAIL": "31", "TIMEOUT": "33"}


def _target(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """What to check against, and the label printed with the verdict."""
    if args.suite:
        if not args.problem:
            raise UserError("--suite needs --problem (or use --batch)")
        return {"suite": args.suite, "problem": args.problem}, args.problem  # a name (folders: cli._checks_remotely)
    if args.system and args.goal is not None:
        return {"system": args.system, "goal": args.goal}, "goal"
    raise UserError("say what to prove: --suite NAME --problem ID, or --system SYSTEM --goal TERM")


def _max_proof_bytes(given: str | None) -> int:
    """PROVEBENCH_MAX_PROOF_BYTES as the settings would take it (a whole number, at least 1), without them."""
    if given is None:
        return DEFAULT_MAX_PROOF_BYTES
    try:
        value = int(given)
    except ValueError:
        raise UserError(f"PROVEBENCH_MAX_PROOF_BYTES: not a whole number: {given[:40]!r}") from None
    if not 1 <= value <= MAX_INPUT_BYTES:
        raise UserError(f"PROVEBENCH_MAX_PROOF_BYTES: must be between 1 and {MAX_INPUT_BYTES}")
    return value


def cmd_check(args: argparse.Namespace) -> int:
    """Check one proof through the service; print its verdict as a local check does; exit by its status."""
    url = server_url(args.server)
    assert url is not None
    target, label = _target(args)
    limit = _max_proof_bytes(os.environ.get("PROVEBENCH_MAX_PROOF_BYTES"))
    proof = read_proof(args.proof, limit, lambda: sys.stdin.buffer.read(limit + 1))
    client = ServiceClient(url, os.environ.get(TOKEN_ENV) or None)
    verdict = client.check({**target, "id": label, "proof": proof}, args.timeout)["verdict"]
    if args.json:
        print(json.dumps({"id": label, **verdict}))
    else:
        first, *rest = verdict_lines(verdict, label)
        if sys.stdout.isatty():
            status, _, tail = first.partition(" ")
            first = f"\x1b[1;{_COLOURS.get(status, '35')}m{status}\x1b[0m {tail}"
        print("\n".join([first, *rest]))
    if verdict["status"] == "ERROR":
        return EXIT_INFRA
    return EXIT_OK if verdict["status"] == "PASS" else EXIT_VERDICT
