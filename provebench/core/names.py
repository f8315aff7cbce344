"""The names the command line offers, without importing what they name (``--help`` starts in milliseconds).

Each tuple equals the keys of the registry it names; tests/unit/test_cli_startup.py checks that they agree.
"""

from __future__ import annotations

SYSTEMS = ("hol-light", "lean4")  # model.System
BACKENDS = ("docker", "local")  # settings.Backend
EXECUTORS = ("local", "ray")  # settings.Executor
IMAGES = (
    *("hol-light", "hol-light-native", "hol-light-s2n", "hol-light-s2n-native", "lean4-mathlib"),
)  # containers.RECIPES
CHECKER_BUILDS = ("bytecode", "native")  # settings.CheckerBuild
DEFAULT_S2N_BIGNUM = "https://github.com/awslabs/s2n-bignum@ac31a43db30953037abd1b64b540e65cf31f4c67"
PROVERS = ("agent", "baseline", "openai", "replay")  # provers.api.PROVERS
SUBMISSION_FORMATS = ("provebench", "s2n-bignum-bench")  # exports.FORMATS
