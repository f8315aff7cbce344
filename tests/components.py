"""What a test does when a component it needs is missing: skip, or under strict mode fail.

``make test`` (hence CI) sets ``PROVEBENCH_TEST_STRICT=1``: a component this machine can have and the
run lacks is then a failure naming it, never a quiet skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

STRICT = os.environ.get("PROVEBENCH_TEST_STRICT") == "1"


def tests_hol_light_family() -> str:
    """The HOL Light image family the tests' checkers use by default (tests/conftest.py sets native)."""
    return "hol-light" if os.environ.get("PROVEBENCH_CHECKER_BUILD") == "bytecode" else "hol-light-native"


def missing_component(component: str, reason: str) -> NoReturn:
    """Skip a test whose component is missing; under strict mode fail it, naming the component."""
    if STRICT:
        pytest.fail(f"required component missing: {component}: {reason}", pytrace=False)
    pytest.skip(f"{component}: {reason}")
