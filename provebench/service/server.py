"""Running the checker service: uvicorn on 127.0.0.1, warm contexts at start, a drain on SIGTERM.

Any host other than loopback needs a bearer token. The drain stops taking requests, gives
in-flight checks a few seconds, and removes every checker container.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from provebench.checking.engine import Engine
from provebench.core.errors import UserError
from provebench.core.model import System
from provebench.service.app import create_app
from provebench.service.models import Target
from provebench.service.state import ApiError, ServiceLimits, ServiceState
from provebench.service.targets import resolve, suite_named
from provebench.suites.load import load_suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """How the service listens and what it loads first."""

    host: str = "127.0.0.1"
    port: int = 8000
    token_env: str | None = None
    warm: Sequence[str] = ()  # SUITE or SUITE:PROBLEM
    suites: Sequence[Path] = ()  # suite folders served besides the bundled and the user's (``--suite``)
    drain_s: float = 10.0
    limits: ServiceLimits = ServiceLimits()
    systems: tuple[System, ...] = (System.HOL_LIGHT, System.LEAN4)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_token(options: ServeOptions) -> str | None:
    """The bearer token clients must send: needed for any non-loopback host, read from ``--token-env``."""
    if options.token_env is None:
        if not is_loopback(options.host):
            raise UserError(f"serving on {options.host} needs --token-env VAR (a bearer token in that variable)")
        return None
    token = os.environ.get(options.token_env, "")
    if not token.strip():
        raise UserError(f"--token-env {options.token_env}: that environment variable is empty or not set")
    return token.strip()


def serve_suite_folder(state: ServiceState, folder: Path) -> None:
    """Serve the suite in ``folder`` by its name (loaded now, so that a bad folder stops the start)."""
    try:
        suite = load_suite(folder)
    except UserError as exc:
        raise UserError(f"--suite {folder}: {exc}") from None
    known = state.suite_folders.get(suite.name)
    if known is not None and known.resolve() != folder.resolve():
        raise UserError(f"--suite {folder}: this service already serves a suite named {suite.name!r} ({known})")
    state.suite_folders[suite.name] = folder  # loaded from it when first asked for


def warm_targets(state: ServiceState, specs: Sequence[str], progress: Callable[[str], None]) -> None:
    """Load the contexts of ``SUITE`` (its first problem's) or ``SUITE:PROBLEM`` before taking requests."""
    for spec in specs:
        suite_name, _, problem_id = spec.partition(":")
        try:
            suite = suite_named(state, suite_name)
            problem_id = problem_id or suite.problems[0].id  # a suite that loads has problems
            problem, _ = resolve(state, Target(suite=suite_name, problem=problem_id), None)
        except ApiError as exc:
            raise UserError(f"--warm {spec}: {exc.message}") from None
        progress(f"warming {suite.name}:{problem.id}...")
        state.engine.warm(problem)


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, telling the service to refuse new work as soon as a signal comes."""

    def __init__(self, config: uvicorn.Config, state: ServiceState) -> None:
        super().__init__(config)
        self.state = state

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.state.draining = True
        super().handle_exit(sig, frame)


def service_state(engine: Engine, options: ServeOptions) -> ServiceState:
    """What the service runs on; refused (no token where one is needed) before any checker starts."""
    token = service_token(options)
    name = f"http://{options.host}:{options.port}"
    return ServiceState(engine=engine, limits=options.limits, token=token, name=name, systems=options.systems)


def ready(state: ServiceState, options: ServeOptions, progress: Callable[[str], None]) -> _DrainingServer:
    """The server, not yet listening: its suite folders served and its targets warm (checkers may have started)."""
    for folder in options.suites:
        serve_suite_folder(state, folder)
    warm_targets(state, options.warm, progress)
    config = uvicorn.Config(
        create_app(state),
        host=options.host,
        port=options.port,
        log_level="warning",
        timeout_graceful_shutdown=max(1, round(options.drain_s)),
        lifespan="on",
    )
    return _DrainingServer(config, state)


def serve(engine: Engine, options: ServeOptions, progress: Callable[[str], None]) -> None:
    """Serve until a signal; every checker is stopped on the way out, whatever happens."""
    state = service_state(engine, options)
    try:
        server = ready(state, options, progress)
        progress(f"serving on {state.name} (OpenAPI schema at {state.name}/openapi.json); Ctrl-C or SIGTERM stops")
        server.run()
    finally:
        engine.close()
