"""What a command that runs on this machine starts with: its settings (``PROVEBENCH_*`` and its flags).

Not imported by ``--help`` nor by ``check --server`` of one proof: the settings model is pydantic's.
"""

from __future__ import annotations

import argparse
import logging
import re
from typing import Any

from pydantic import ValidationError

from provebench.checking.service_client import server_url
from provebench.cli.consoles import DimLines
from provebench.core.errors import UserError
from provebench.core.inputs import first_error
from provebench.core.settings import Backend, CheckerBuild, Executor, Settings


def start(args: argparse.Namespace) -> Settings:
    """The command's settings, with provebench's notes (walks through large templates) shown as dim lines."""
    notes = logging.getLogger("provebench")
    if not any(isinstance(h, DimLines) for h in notes.handlers):
        notes.addHandler(DimLines())
        notes.setLevel(logging.INFO)
    return settings_from(args)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings from ``PROVEBENCH_*``, with the command's flags over them."""
    try:
        settings = Settings()
    except ValidationError as exc:  # a PROVEBENCH_* variable out of bounds: name it, in one line
        where, msg = first_error(exc)
        raise UserError(f"PROVEBENCH_{where.upper()}: {msg}") from None
    update: dict[str, Any] = {}
    if args.backend:
        update["backend"] = Backend(args.backend)
    if args.checkers is not None:  # bounded by the grammar (cli_options), as the settings bound it
        update["checkers"] = args.checkers
    if args.memory_mb is not None:
        update["memory_mb"] = args.memory_mb
    if args.checker is not None:
        update["checker_build"] = CheckerBuild(args.checker)
    if args.image_revision is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{7,40}", args.image_revision):
            raise UserError("--image-revision wants a commit hash (at least 7 hex digits)")
        update["image_revision"] = args.image_revision.lower()
    if getattr(args, "apt_ignore_valid_until", False):
        update["apt_ignore_valid_until"] = True
    if getattr(args, "server", None) is not None:
        update["server"] = server_url(args.server)
    elif settings.server:
        update["server"] = server_url(settings.server)
    else:
        update["server"] = None  # PROVEBENCH_SERVER set empty: no service, as when unset
    if getattr(args, "executor", None) is not None:
        update["executor"] = Executor(args.executor)
    if getattr(args, "ray_address", None) is not None:
        if (update.get("executor") or settings.executor) is not Executor.RAY:
            raise UserError("--ray-address goes with --executor ray")
        update["ray_address"] = args.ray_address
    if args.command in ("serve", "mcp"):
        # A service checks on its own checkers, whatever PROVEBENCH_SERVER says; so does the MCP server, whose
        # proof sessions live in its checkers.
        update["server"] = None
    return settings.model_copy(update=update)
