"""The checkers by proof system: a plain table of factories, loaded only when a system is first checked.

Built-in checkers are imported by name here (and they import only ``core.verifier``, never this table,
so there is no import circle); others come from installed packages through the entry-point group
``provebench.verifiers`` (name: the proof system, value: ``module:factory`` with the signature of
``VerifierFactory``). With ``settings.server`` set, every system is checked by that service; with ``settings.executor``
ray, by Ray actors.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points

from provebench.checking.ray import RayVerifier
from provebench.checking.remote import RemoteVerifier
from provebench.core.errors import UserError
from provebench.core.model import Problem
from provebench.core.settings import Executor, Settings
from provebench.core.verifier import Verifier, VerifierFactory, context_key

ENTRY_POINT_GROUP = "provebench.verifiers"
BUILT_IN: dict[str, str] = {
    "hol-light": "provebench.systems.hol_light.verifier:make_hol_light_group_verifier",
    "lean4": "provebench.systems.lean.factory:make_lean_group_verifier",
}


def _load(target: str) -> VerifierFactory:
    module, _, name = target.partition(":")
    factory: VerifierFactory = getattr(importlib.import_module(module), name)
    return factory


def factory_for(system: str) -> VerifierFactory:
    """The factory of ``system``'s checker: built in, or from an installed package's entry point."""
    if system in BUILT_IN:
        return _load(BUILT_IN[system])
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == system:
            return _load(ep.value)
    raise UserError(f"no checker for proof system {system!r} yet")


def make_group_verifier(settings: Settings, problems: Sequence[Problem]) -> Verifier:
    """The verifier for problems that share one context."""
    if not problems or len({context_key(p) for p in problems}) != 1:
        raise ValueError("a group verifier needs problems that share one context")
    if settings.server is not None:
        return RemoteVerifier(problems, settings)
    if settings.executor is Executor.RAY:
        return RayVerifier(problems, settings, factory_for(problems[0].system.value))
    return factory_for(problems[0].system.value)(settings, problems)
