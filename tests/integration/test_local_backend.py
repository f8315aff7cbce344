"""The local backend runs the host's own HOL Light (development only, not a sandbox)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provebench.core.model import Status
from provebench.core.settings import Backend, Settings
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import make_hol_light_verifier

HOL_DIR = Path("/usr/share/hol-light")
pytestmark = [
    pytest.mark.local_hol,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (HOL_DIR / "ocaml-hol").exists() or shutil.which("ocamlfind") is None,
        reason="the host has no HOL Light toplevel at /usr/share/hol-light/ocaml-hol (apt-get install hol-light)",
    ),
]


def test_local_backend_checks_like_the_container(core_suite: Suite, tmp_path: Path) -> None:
    settings = Settings(backend=Backend.LOCAL, hol_light_dir=HOL_DIR, cache_dir=tmp_path, memory_mb=2048)
    verifier = make_hol_light_verifier(settings)
    try:
        p = core_suite.problem("add_comm")
        assert verifier.check(p, "ARITH_TAC").status is Status.PASS
        assert verifier.check(p, "REWRITE_TAC[]").status is Status.FAIL
        assert verifier.check(p, "CHEAT_TAC").status is Status.CHEATING
    finally:
        verifier.close()
