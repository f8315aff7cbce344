"""A run's manifest is one typed model, written and read; every shape provebench has written still reads.

``tests/fixtures/v1/first-run`` is a run directory written by the first provebench that made runs (its
README says how): its manifest has no ``selection``, no ``benchmark_layout``, sessions without ``service``
and checkers without recipe or packages. It is read in place, or copied first where a test resumes it.
``tests/fixtures/v1/run`` holds the shape of the manifest just before the model, which one written now keeps.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provebench.boards.bundle import Submitter, pack, read_bundle
from provebench.core.errors import UserError
from provebench.core.model import CheckerInfo, System
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.manifest import RunManifest, read_run_manifest
from provebench.runs.run import RunDir, RunHooks, execute, plan_run, summarize_run
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble, passes_if

FIRST = Path(__file__).resolve().parents[1] / "fixtures" / "v1" / "first-run"
SETTINGS = Settings(checkers=1, infra_backoff_s=0)
FIRST_CHECKER = CheckerInfo(image="double", digest="sha256:double", system=System.HOL_LIGHT, version="double")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_first_run_shape_reads_to_the_summary_its_own_provebench_wrote() -> None:
    rd = RunDir(FIRST)
    written = _json(rd.summary_path)
    now = summarize_run(rd, rd.config()).model_dump(mode="json")
    kept = ("problems", "attempts", "solved", "solved_first_round", "complete", "pass_at_k", "by_category")
    assert {k: now[k] for k in kept} == {k: written[k] for k in kept}
    assert now["by_status"] == written["by_status"] == {"FAIL": 3, "PASS": 6}


def test_the_first_run_shape_packs_into_a_bundle_that_pins_what_its_manifest_says(tmp_path: Path) -> None:
    rd = RunDir(FIRST)
    manifest = _json(rd.manifest_path)
    packed = pack(rd, tmp_path / "b.tar.gz", Submitter(name="Old", contact="old@example.org", open_data="full"))
    assert read_bundle(tmp_path / "b.tar.gz").manifest == packed
    assert packed.suite.model_dump() == {k: manifest["suite"][k] for k in ("name", "version", "content_hash")}
    assert packed.checkers == [FIRST_CHECKER]  # recipe and packages not recorded then: empty, as v1 lines read
    assert packed.prover == manifest["prover"] and packed.prompt_hashes == manifest["prompt_templates"] == {}
    assert packed.problems == ["excluded_middle", "peirce", "add_comm"]


def _resume(rd: RunDir) -> None:
    config = rd.config()
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    double = ScriptedVerifierDouble(passes_if("MESON_TAC[]"))
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _s, _p: double, resume=True)


def test_a_resume_of_the_first_run_shape_is_refused_in_one_line_as_its_suite_s_hash_changed_since(
    tmp_path: Path,
) -> None:
    shutil.copytree(FIRST, tmp_path / "run")
    rd = RunDir(tmp_path / "run")
    before = rd.manifest_path.read_bytes(), rd.journal_path.read_bytes()
    with pytest.raises(UserError, match=r"^suite hol-light-core changed since this run started \(sha256:a68998") as e:
        _resume(rd)
    assert "\n" not in str(e.value)
    assert (rd.manifest_path.read_bytes(), rd.journal_path.read_bytes()) == before


def test_a_first_run_shape_manifest_on_an_unchanged_suite_resumes_keeping_what_it_recorded(tmp_path: Path) -> None:
    shutil.copytree(FIRST, tmp_path / "run")
    rd = RunDir(tmp_path / "run")
    old = _json(rd.manifest_path)
    current = plan_run(rd.config(), SETTINGS).suite.content_hash
    rd.manifest_path.write_text(json.dumps({**old, "suite": {**old["suite"], "content_hash": current}}))
    rd.journal_path.write_text("")  # every chain is redone: the old lines are on another suite hash
    _resume(rd)
    new = _json(rd.manifest_path)
    assert new["created_at"] == old["created_at"]
    # what it recorded is kept; what was not recorded then is written as such, as it reads
    assert new["sessions"][0] == {**old["sessions"][0], "service": None}
    assert new["sessions"][1]["index"] == 1 and new["sessions"][1]["service"] is None
    assert new["checkers"][0] == {**old["checkers"][0], "recipe": "", "packages": ""}
    assert new["selection"] == {"of": 50, "categories": [], "limit": None, "seed": None}
    assert new["suite"]["content_hash"] == current and new["suite"]["benchmark_layout"] is None


def _new_run(out: Path) -> RunDir:
    config = build_config({"suite": "hol-light-core", "problems": ["excluded_middle", "add_comm"]}, {}, "t")
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    rd = RunDir.create(out, plan.suite.name, prover.name)
    double = ScriptedVerifierDouble(passes_if("MESON_TAC[]"))
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _s, _p: double)
    return rd


def _shape(data: Any) -> Any:
    """The keys of a JSON value, all the way down (the first item of a list standing for all)."""
    if isinstance(data, dict):
        return {k: _shape(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_shape(data[0])] if data else []
    return None


def test_a_manifest_written_now_has_the_shape_of_the_v1_one_and_reads_back_as_the_model_written(
    tmp_path: Path,
) -> None:
    rd = _new_run(tmp_path / "run")
    written = _json(rd.manifest_path)
    v1 = _json(FIRST.parent / "run" / "manifest.json")
    assert _shape(written) == _shape(v1)  # an earlier provebench reads it as it read its own
    manifest = rd.read_manifest()
    assert manifest.model_dump(mode="json") == written
    assert manifest.problem_ids() == ["excluded_middle", "add_comm"] and manifest.sessions[0].index == 0
    assert manifest.checkers == [DOUBLE_CHECKER] and manifest.suite.system is System.HOL_LIGHT


def test_keys_this_provebench_does_not_know_are_kept_through_a_read() -> None:
    data = _json(FIRST / "manifest.json")
    data["sessions"][0]["launched_by"] = "ci"  # the first provebench let its caller add keys to a session
    data["comment"] = {"by": "a user"}
    manifest = RunManifest.model_validate(data)
    dumped = manifest.model_dump(mode="json")
    assert dumped["sessions"][0]["launched_by"] == "ci" and dumped["comment"] == {"by": "a user"}


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda m: m["problems"][1].pop("id"), "problems.1.id: Field required"),
        (lambda m: m["problems"].append(dict(m["problems"][0])), "problems: problem 'excluded_middle' is listed twice"),
        (lambda m: m["suite"].update(content_hash="md5:0"), "suite.content_hash: String should match pattern"),
        (lambda m: m["sessions"][0].update(index=-1), "sessions.0.index: Input should be greater than or equal to 0"),
        (lambda m: m["checkers"][0].update(system="coq"), "checkers.0.system: Input should be 'hol-light' or 'lean4'"),
        (lambda m: m.update(schema_version=2), "schema_version: Input should be 1"),
        (lambda m: m["sessions"][0].update(started_at=float("inf")), "sessions.0.started_at: Input should be a finite"),
        (lambda m: m.pop("suite"), "suite: Field required"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], said: str
) -> None:
    data = _json(FIRST / "manifest.json")
    edit(data)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UserError) as e:
        read_run_manifest(path)
    assert str(e.value).startswith(f"{path}: not a provebench run manifest: {said}") and "\n" not in str(e.value)
