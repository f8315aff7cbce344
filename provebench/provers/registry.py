"""The provers by name: a plain table, each loaded when first asked for.

Built-in provers are imported by name here (they import only ``provers.api``, never this table, so
there is no import circle); others come from installed packages through the entry-point group
``provebench.provers`` (name: the prover's name, value: ``module:factory``, a ``ProverFactory``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from provebench.core.errors import UserError
from provebench.provers.api import Prover, ProverFactory

ENTRY_POINT_GROUP = "provebench.provers"
BUILT_IN: dict[str, str] = {
    "agent": "provebench.provers.agent:AgentProver.from_settings",
    "baseline": "provebench.provers.baseline:BaselineProver.from_settings",
    "openai": "provebench.provers.openai_chat:OpenAIChatProver.from_settings",
    "replay": "provebench.provers.replay:ReplayProver.from_settings",
}
PROVERS = tuple(sorted(BUILT_IN))  # the built-in names (``--prover`` also takes installed ones)


def _load(target: str) -> ProverFactory:
    module, _, path = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    factory: ProverFactory = obj
    return factory


def known_provers() -> list[str]:
    """Every prover name: built in, then installed."""
    return sorted(set(BUILT_IN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def make_prover(name: str, settings: Mapping[str, Any]) -> Prover:
    """The prover ``name`` configured by ``settings``; one-line errors for bad settings."""
    if name in BUILT_IN:
        return _load(BUILT_IN[name])(settings)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return _load(ep.value)(settings)
    raise UserError(f"unknown prover {name!r}; known provers: {', '.join(known_provers())}")
