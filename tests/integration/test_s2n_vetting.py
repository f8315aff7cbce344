"""Static vetting lets every one of s2n-bignum's reference proofs through (no Docker: vetting is provebench's
own code). A vetting rule that refused an honest s2n-bignum proof would turn a correct answer into CHEATING."""

from __future__ import annotations

import subprocess

import pytest

from provebench.suites.load import load_suite
from provebench.suites.s2n_source import import_source
from provebench.systems.hol_light.vetting import vet_proof
from tests.s2n_sources import s2n_bignum_checkout

pytestmark = [pytest.mark.s2n, pytest.mark.slow, pytest.mark.timeout(1800)]


def test_every_reference_proof_of_s2n_bignum_passes_vetting(tmp_path_factory: pytest.TempPathFactory) -> None:
    checkout = s2n_bignum_checkout(tmp_path_factory)
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    out = tmp_path_factory.mktemp("s2n-suite") / "suite"
    import_source(checkout, out)
    proofs = {p.id: p.reference_proof for p in load_suite(out).problems if p.reference_proof}
    refused = {pid: vet_proof(proof, 10**8) for pid, proof in proofs.items()}
    refused = {pid: v.reason.value for pid, v in refused.items() if v is not None}
    assert refused == {}, f"at {head[:12]}: {len(refused)} of {len(proofs)} refused, e.g. {sorted(refused.items())[:3]}"
    assert len(proofs) >= 2600, f"at {head[:12]}: only {len(proofs)} reference proofs found"  # 2,622 at ac31a43
