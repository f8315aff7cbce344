"""Submission bundles: what packing writes, and every way a bundle that is not what it claims is refused."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provebench.boards import bundle
from provebench.boards.bundle import ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER, BundleLimits, read_bundle
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run, summarize_run
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced
from tests.doubles.verifier import DOUBLE_CHECKER, verdict
from tests.submission_support import (
    bundle_members,
    edit_attempts,
    edit_manifest,
    rewrite,
    scripted_verifiers,
)


def test_shipped_schemas_are_the_models_schemas() -> None:
    for name, generated in bundle.generated_schemas().items():
        shipped = json.loads((Path(bundle.__file__).parent / "schemas" / name).read_text())
        assert shipped == generated, f"{name} is stale: regenerate it from bundle.generated_schemas()"


def test_pack_writes_every_attempt_with_manifest_and_budget(packed: Path) -> None:
    b = read_bundle(packed)
    m = b.manifest
    assert sorted(bundle_members(packed)) == [ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER]
    assert m.suite.name == "hol-light-core" and m.suite.content_hash.startswith("sha256:")
    assert m.sampling.samples_per_problem == 2 and m.budget.attempts == len(b.attempts) == 100
    assert m.checkers == [DOUBLE_CHECKER] and m.prover["name"] == "baseline"
    assert {(r.problem, r.sample) for r in b.attempts} == {(p, s) for p in m.problems for s in (0, 1)}
    assert all(r.prover.proof for r in b.attempts) and all(r.verdict.checker == DOUBLE_CHECKER for r in b.attempts)
    passes = [r for r in b.attempts if r.verdict.status is Status.PASS]
    assert passes and all(r.category == "arithmetic" and r.prover.proof == "ARITH_TAC" for r in passes)


def test_an_unfinished_run_is_not_packed(run: RunDir, tmp_path: Path) -> None:
    lines = run.journal_path.read_text().splitlines()
    run.journal_path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(UserError, match="the run is incomplete"):
        bundle.pack(run, tmp_path / "x.tar.gz", bundle.Submitter(name="a", contact="b", open_data="none"))


def test_pack_keeps_the_raw_replies_only_when_every_attempt_may_be_published(packed: Path) -> None:
    # open_data "full": each attempt travels with the prover's raw reply (the baseline names its strategy).
    assert all((r.prover.raw_reply or "").startswith("strategy ") for r in read_bundle(packed).attempts)


def test_pack_refuses_a_finished_run_whose_repair_round_has_no_verdict(tmp_path: Path, settings: Settings) -> None:
    # Round 0 decided every sample (so the run counts as complete), but the checker was lost for the repairs.
    config = build_config({"suite": "hol-light-core", "n": 1, "repair_rounds": 1, "limit": 2}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    checked: set[str] = set()

    def lost_on_repair(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if problem.id in checked:
            return VerifierUnavailable("container lost (scripted)")
        checked.add(problem.id)
        return verdict(Status.FAIL, Reason.TACTIC_FAILED, "scripted failure")

    execute(plan, rundir, prover, settings, RunHooks(), scripted_verifiers(lost_on_repair))
    first = min(p.id for p in plan.problems)
    out = tmp_path / "x.tar.gz"
    with pytest.raises(UserError) as exc:
        bundle.pack(rundir, out, bundle.Submitter(name="a", contact="b", open_data="none"))
    assert str(exc.value) == (
        f"{rundir.path}: 2 attempt(s) have no verdict (checker ERROR, first: {first}); "
        f"retry them with provebench run --resume {rundir.path}"
    )
    assert not out.exists()


@pytest.mark.parametrize("templates", [{"prove": "sha256:" + "ab" * 32}, None])
def test_the_bundle_pins_the_run_s_suite_version_prompt_templates_and_a_utc_time(
    run: RunDir, tmp_path: Path, templates: dict[str, str] | None
) -> None:
    # A prover with prompt templates records their hashes in the run's manifest; an older manifest has none.
    manifest = json.loads(run.manifest_path.read_text())
    manifest.pop("prompt_templates")
    if templates is not None:
        manifest["prompt_templates"] = templates
    run.manifest_path.write_text(json.dumps(manifest))
    out = tmp_path / "entry.tar.gz"
    packed = bundle.pack(run, out, bundle.Submitter(name="a", contact="b", open_data="none"))
    assert read_bundle(out).manifest == packed
    assert packed.suite.version == str(manifest["suite"]["version"]) and packed.suite.version[:4].isdigit()
    assert packed.prompt_hashes == (templates or {})
    assert packed.created_at.endswith("+00:00")


def test_the_bundle_carries_a_priced_prover_s_cost_templates_and_protocol(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chat-API prover (the API double, priced) run under CombiBench's protocol: what the run spent and
    # how it sampled travel in the bundle's manifest as the run recorded them.
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC")) as api:
        prover_settings = {
            "model": api.model,
            "base_url": api.base_url,
            "api_key_env": "DOUBLE_API_KEY",
            "prices": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
        }
        raw = {"suite": "hol-light-core", "n": 1, "limit": 3, "protocol": "combibench"}
        config = build_config({**raw, "prover": {"name": "openai", **prover_settings}}, {}, "test")
        plan = plan_run(config, settings)
        prover = make_prover("openai", prover_settings)
        prover.prepare(plan.suite.problems)
        rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
        execute(plan, rundir, prover, settings, RunHooks(), scripted_verifiers())
    manifest = bundle.pack(rundir, tmp_path / "entry.tar.gz", bundle.Submitter(name="a", contact="b", open_data="none"))
    summary = summarize_run(rundir, config)
    assert summary.totals.cost is not None and summary.totals.cost > 0
    assert manifest.budget.cost == summary.totals.cost
    assert manifest.prompt_hashes == prover.template_hashes() and manifest.prompt_hashes
    assert manifest.sampling.protocol == "combibench"


def test_a_packed_bundle_holds_three_regular_files_readable_by_anyone(packed: Path) -> None:
    with tarfile.open(packed) as tar:
        assert [(m.name, m.type, m.mode) for m in tar] == [
            (name, tarfile.REGTYPE, 0o644) for name in (MANIFEST_MEMBER, ATTEMPTS_MEMBER, SUMMARY_MEMBER)
        ]


@pytest.mark.parametrize(
    ("name", "change", "rehash", "fragment"),
    [
        (
            "altered proof, hash left",
            edit_attempts(lambda rows: rows[0].update(proof="CHEAT_TAC")),
            False,
            "attempts.jsonl does not match the SHA-256 in the manifest (altered after packing)",
        ),
        (
            "attempt count off",
            edit_manifest(lambda m: m["attempts"].update(count=101)),
            False,
            "100 attempts, but the manifest says 101",
        ),
        ("missing attempt", edit_attempts(lambda rows: rows.pop(3)), True, "missing attempt: problem"),
        (
            "duplicated attempt",
            edit_attempts(lambda rows: rows.append(dict(rows[0]))),
            True,
            "appears twice",
        ),
        (
            "attempt of another problem",
            edit_attempts(lambda rows: rows[0].update(problem="fermat_last")),
            True,
            "which the manifest does not list",
        ),
        (
            "schema: status not a verdict",
            edit_attempts(lambda rows: rows[0]["verdict"].update(status="PROVED")),
            True,
            "attempts.jsonl: line 1: not valid under submission schema v2: verdict/status",
        ),
        (
            "schema: manifest field missing",
            edit_manifest(lambda m: m.pop("budget")),
            True,
            "not valid under submission schema v1: (top level): 'budget' is a required property",
        ),
        (
            "schema: wrong format name",
            edit_manifest(lambda m: m.update(format="other-tool")),
            True,
            "not valid under submission schema v1: format",
        ),
        (
            "schema: bad open data",
            edit_manifest(lambda m: m["submitter"].update(open_data="some")),
            True,
            "submitter/open_data",
        ),
        (
            "extra member",
            lambda members: members.update({"../../etc/cron.d/x": b"* * * * * root sh"}),
            True,
            "unexpected member '../../etc/cron.d/x'; a bundle holds only manifest.json, attempts.jsonl, summary.json",
        ),
        (
            "a sample beyond n",
            edit_attempts(lambda rows: rows.append(dict(rows[0], sample=2))),
            True,
            "is outside n=2 samples and 0 repair round(s)",
        ),
        (
            "a repair round the run did not make",
            edit_attempts(lambda rows: rows.append(dict(rows[0], round=1))),
            True,
            "is outside n=2 samples and 0 repair round(s)",
        ),
        (
            "a problem listed twice",
            edit_manifest(lambda m: m["problems"].append(m["problems"][0])),
            True,
            "the manifest lists a problem twice",
        ),
        (
            "not JSON",
            lambda members: members.update({MANIFEST_MEMBER: b"\x00\x01binary"}),
            False,
            "manifest.json: invalid JSON",
        ),
    ],
)
def test_tampered_bundles_are_refused(
    packed: Path, tmp_path: Path, name: str, change: Callable[[dict[str, bytes]], None], rehash: bool, fragment: str
) -> None:
    bad = rewrite(packed, tmp_path / "bad.tar.gz", change, rehash=rehash)
    with pytest.raises(UserError) as exc:
        read_bundle(bad)
    assert fragment in str(exc.value), name
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(("length", "shown"), [(100, "'{name}'; a bundle"), (101, "'{cut}'... (101 characters)")])
def test_an_unexpected_member_s_long_name_is_shown_cut_with_its_length(
    packed: Path, tmp_path: Path, length: int, shown: str
) -> None:
    name = "x" * length
    bad = rewrite(packed, tmp_path / "bad.tar.gz", lambda members: members.update({name: b"{}"}))
    with pytest.raises(UserError) as exc:
        read_bundle(bad)
    assert shown.format(name=name, cut=name[:100]) in str(exc.value)


def _raw_tar(out: Path, add: Callable[[tarfile.TarFile], None]) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        add(tar)
    return out


def test_archive_tricks_are_refused_before_anything_is_read(packed: Path, tmp_path: Path) -> None:
    members = bundle_members(packed)

    def with_link(tar: tarfile.TarFile) -> None:
        for name in (ATTEMPTS_MEMBER, SUMMARY_MEMBER):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            tar.addfile(info, io.BytesIO(members[name]))
        link = tarfile.TarInfo(MANIFEST_MEMBER)
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)

    def traversal(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("manifest.json/../../outside.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))

    with pytest.raises(UserError, match="member 'manifest.json' is not a regular file"):
        read_bundle(_raw_tar(tmp_path / "link.tar.gz", with_link))
    with pytest.raises(UserError, match=r"unexpected member 'manifest.json/\.\./\.\./outside.json'"):
        read_bundle(_raw_tar(tmp_path / "trav.tar.gz", traversal))
    with pytest.raises(UserError, match="member 'attempts.jsonl' is .* bytes, over the limit of 1000"):
        read_bundle(packed, BundleLimits(attempts=1000))
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive at all")
    with pytest.raises(UserError, match=r"not a submission bundle \(a \.tar\.gz\): Not a gzipped file \(b'no'\)$"):
        read_bundle(tmp_path / "junk.tar.gz")
    assert not (tmp_path / "outside.json").exists()
