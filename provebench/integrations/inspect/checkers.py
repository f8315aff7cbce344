"""The warm checkers of an Inspect process: one engine per checker settings, for every sample and epoch.

An engine loads each context once and keeps it warm while Inspect runs samples, epochs, retries and further
evals in the same process; its checkers stop when the process exits, however it ends (Ctrl-C included).
Not through an Inspect hook: a registered hook is announced at the start of every user's ``inspect eval``.
"""

from __future__ import annotations

import atexit
import threading

from provebench.checking.engine import Engine
from provebench.integrations.inspect.options import ProofTask

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def engine_for(task: ProofTask) -> Engine:
    """The engine for the task's checker settings, made on first use, the task's problems planned on it."""
    key = task.settings.model_dump_json()
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine(task.settings)
        engine.plan(task.plan.problems)  # a template context holds every planned position (s2n-bignum)
    return engine


def open_engine(task: ProofTask) -> Engine | None:
    """The engine open for the task's checker settings, if any (none is made)."""
    with _lock:
        return _engines.get(task.settings.model_dump_json())


def close_engines() -> None:
    """Stop every checker this process started."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.close()


atexit.register(close_engines)
