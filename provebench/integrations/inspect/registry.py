"""What Inspect finds through provebench's ``inspect_ai`` entry point: the task, solver, scorer, reducer."""

from provebench.integrations.inspect.proving import pass_at, proof_check, prove
from provebench.integrations.inspect.tasks import suite

__all__ = ["pass_at", "proof_check", "prove", "suite"]
