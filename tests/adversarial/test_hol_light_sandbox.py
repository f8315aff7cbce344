"""What the container itself stops, with static vetting bypassed on purpose (both HOL Light builds).

Each proof passes only if its escape worked: it does the forbidden thing first and proves the goal
after. So a sandbox that lets the escape through shows up as PASS, and the sandbox must turn each into
a FAIL (never PASS, and never ERROR, which would take the attempt out of n).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.core.model import Status
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CORPUS = Path(__file__).parent / "hol_light" / "sandbox"
# What stops each one: the read-only root, no network, the pids limit, the hard rlimits a check
# cannot raise, dropped capabilities, no new privileges, and a shell that can change nothing outside /tmp.
STOPPED = {
    "write_outside_tmp": {"exception"},
    "write_var_tmp": {"exception"},
    "write_dev_shm": {"exception"},
    "open_socket": {"tactic-failed"},
    "network_interfaces": {"tactic-failed"},
    "capabilities": {"tactic-failed"},
    "new_privileges": {"tactic-failed"},
    # fork fails with EAGAIN at the pids limit; on a loaded machine the check child may instead be killed
    # while its children pile up: either way a FAIL.
    "fork_unbounded": {"exception", "crashed", "no-result"},
    "raise_limits": {"tactic-failed"},
    "run_shell": {"tactic-failed"},
}
# Where the failure must say which guard held: the check ran to the evidence, it did not just crash.
HELD_BY = {
    "write_var_tmp": "Read-only file system",
    "write_dev_shm": "No such file or directory",
    "network_interfaces": "sandbox held: loopback only",
    "capabilities": "sandbox held: no capabilities",
    "new_privileges": "sandbox held: no new privileges",
}


def test_every_sandbox_case_is_run() -> None:
    assert {p.stem for p in CORPUS.glob("*.ml")} == set(STOPPED) | {"plant_file", "read_other_check"}


@pytest.mark.parametrize("name", sorted(STOPPED))
def test_the_container_stops_what_vetting_would(
    name: str, each_hol_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    problem = core_suite.problem("add_comm")
    v = each_hol_verifier.check_unvetted_for_tests(problem, (CORPUS / f"{name}.ml").read_text(), timeout_s=60)
    assert v.status is Status.FAIL and v.reason.value in STOPPED[name], (v.status, v.reason, v.messages)
    if name in HELD_BY:
        assert any(HELD_BY[name] in m for m in v.messages), v.messages
    # The checker is unharmed: its next check of a valid proof passes.
    assert each_hol_verifier.check(problem, "ARITH_TAC").status is Status.PASS


def test_a_check_cannot_read_what_an_earlier_check_left(each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    problem = core_suite.problem("add_comm")
    planted = each_hol_verifier.check_unvetted_for_tests(problem, (CORPUS / "plant_file.ml").read_text(), timeout_s=60)
    # It got as far as its failwith: everything was planted.
    assert planted.status is Status.FAIL and any("planted" in m for m in planted.messages), planted.messages
    v = each_hol_verifier.check_unvetted_for_tests(problem, (CORPUS / "read_other_check.ml").read_text(), timeout_s=60)
    assert v.status is Status.FAIL and v.reason.value == "tactic-failed", (v.status, v.reason, v.messages)
    assert any("nothing found" in m for m in v.messages), v.messages
