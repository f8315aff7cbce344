"""The one execution engine: warm contexts within the memory budget, checks and batches, retries."""

from provebench.engine.checked import Checked, infrastructure_verdict
from provebench.engine.contexts import ContextPlan, ContextStatus, SharesLoading, plan_contexts
from provebench.engine.core import Engine, starting_line

__all__ = [
    "Checked",
    "ContextPlan",
    "ContextStatus",
    "Engine",
    "SharesLoading",
    "infrastructure_verdict",
    "plan_contexts",
    "starting_line",
]
