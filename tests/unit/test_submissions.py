"""Submission bundles and leaderboard entries, with the scripted verifier double standing in for the checker.

What the double cannot show (that verdicts are real) is shown by the round trip on real
HOL Light in tests/integration/test_leaderboard_real.py. Here: packing, every tampering case,
digest and hash pins, resumed re-verification, and the rendered pages' content.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tarfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from provebench.boards import bundle
from provebench.boards.add import AddHooks, add_entry
from provebench.boards.board import Board, BoardConfig, EntryRefused
from provebench.boards.bundle import ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER, BundleLimits, read_bundle
from provebench.boards.pages import render_board, render_run_report
from provebench.cli.main import main
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run, summarize_run
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble, verdict

Factory = Callable[[Settings, Sequence[Problem]], Verifier]


def _arith_passes(problem: Problem, proof: str, _call: int) -> Verdict | VerifierUnavailable:
    """The double's script: ARITH_TAC proves the arithmetic problems, nothing else passes."""
    if proof.strip() == "ARITH_TAC" and problem.category == "arithmetic":
        return verdict(Status.PASS, Reason.PROVED)
    return verdict(Status.FAIL, Reason.TACTIC_FAILED, f"scripted failure of {proof!r}")


def _double(script: Callable[[Problem, str, int], Verdict | VerifierUnavailable] = _arith_passes) -> Factory:
    return lambda _settings, _problems: ScriptedVerifierDouble(script)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites", infra_backoff_s=0)


@pytest.fixture()
def run(tmp_path: Path, settings: Settings) -> RunDir:
    """A finished baseline run (n=2) on hol-light-core, checked by the double."""
    config = build_config({"suite": "hol-light-core", "n": 2}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), _double())
    return rundir


@pytest.fixture()
def packed(run: RunDir, tmp_path: Path) -> Path:
    out = tmp_path / "entry.tar.gz"
    bundle.pack(run, out, bundle.Submitter(name="Baseline (test)", contact="ci@example.org", open_data="full"))
    return out


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def _rewrite(path: Path, out: Path, change: Callable[[dict[str, bytes]], None], rehash: bool = True) -> Path:
    """A copy of the bundle with ``change`` applied to its members (and the manifest's pins updated)."""
    members = _members(path)
    change(members)
    if rehash:
        manifest = json.loads(members[MANIFEST_MEMBER])
        manifest["attempts"]["sha256"] = bundle.sha256_of(members[ATTEMPTS_MEMBER])
        manifest["attempts"]["count"] = len(members[ATTEMPTS_MEMBER].splitlines())
        members[MANIFEST_MEMBER] = json.dumps(manifest).encode()
    bundle.write_tar(out, members)
    return out


def _edit_attempts(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        rows = [json.loads(line) for line in members[ATTEMPTS_MEMBER].splitlines()]
        edit(rows)
        members[ATTEMPTS_MEMBER] = "".join(json.dumps(r) + "\n" for r in rows).encode()

    return change


def _edit_manifest(edit: Callable[[dict[str, object]], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        manifest = json.loads(members[MANIFEST_MEMBER])
        edit(manifest)
        members[MANIFEST_MEMBER] = json.dumps(manifest).encode()

    return change


def test_shipped_schemas_are_the_models_schemas() -> None:
    for name, generated in bundle.generated_schemas().items():
        shipped = json.loads((Path(bundle.__file__).parent / "schemas" / name).read_text())
        assert shipped == generated, f"{name} is stale: regenerate it from bundle.generated_schemas()"


def test_pack_writes_every_attempt_with_manifest_and_budget(packed: Path) -> None:
    b = read_bundle(packed)
    m = b.manifest
    assert sorted(_members(packed)) == [ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER]
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


@pytest.mark.parametrize(
    ("name", "change", "rehash", "fragment"),
    [
        (
            "altered proof, hash left",
            _edit_attempts(lambda rows: rows[0].update(proof="CHEAT_TAC")),
            False,
            "attempts.jsonl does not match the SHA-256 in the manifest (altered after packing)",
        ),
        (
            "attempt count off",
            _edit_manifest(lambda m: m["attempts"].update(count=101)),  # type: ignore[attr-defined]
            False,
            "100 attempts, but the manifest says 101",
        ),
        ("missing attempt", _edit_attempts(lambda rows: rows.pop(3)), True, "missing attempt: problem"),
        (
            "duplicated attempt",
            _edit_attempts(lambda rows: rows.append(dict(rows[0]))),
            True,
            "appears twice",
        ),
        (
            "attempt of another problem",
            _edit_attempts(lambda rows: rows[0].update(problem="fermat_last")),
            True,
            "which the manifest does not list",
        ),
        (
            "schema: status not a verdict",
            _edit_attempts(lambda rows: rows[0]["verdict"].update(status="PROVED")),
            True,
            "attempts.jsonl: line 1: not valid under submission schema v2: verdict/status",
        ),
        (
            "schema: manifest field missing",
            _edit_manifest(lambda m: m.pop("budget")),
            True,
            "not valid under submission schema v1: (top level): 'budget' is a required property",
        ),
        (
            "schema: wrong format name",
            _edit_manifest(lambda m: m.update(format="other-tool")),
            True,
            "not valid under submission schema v1: format",
        ),
        (
            "schema: bad open data",
            _edit_manifest(lambda m: m["submitter"].update(open_data="some")),  # type: ignore[attr-defined]
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
            _edit_attempts(lambda rows: rows.append(dict(rows[0], sample=2))),
            True,
            "is outside n=2 samples and 0 repair round(s)",
        ),
        (
            "a repair round the run did not make",
            _edit_attempts(lambda rows: rows.append(dict(rows[0], round=1))),
            True,
            "is outside n=2 samples and 0 repair round(s)",
        ),
        (
            "a problem listed twice",
            _edit_manifest(lambda m: m["problems"].append(m["problems"][0])),  # type: ignore[attr-defined]
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
    bad = _rewrite(packed, tmp_path / "bad.tar.gz", change, rehash=rehash)
    with pytest.raises(UserError) as exc:
        read_bundle(bad)
    assert fragment in str(exc.value), name
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(("length", "shown"), [(100, "'{name}'; a bundle"), (101, "'{cut}'... (101 characters)")])
def test_an_unexpected_member_s_long_name_is_shown_cut_with_its_length(
    packed: Path, tmp_path: Path, length: int, shown: str
) -> None:
    name = "x" * length
    bad = _rewrite(packed, tmp_path / "bad.tar.gz", lambda members: members.update({name: b"{}"}))
    with pytest.raises(UserError) as exc:
        read_bundle(bad)
    assert shown.format(name=name, cut=name[:100]) in str(exc.value)


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

    execute(plan, rundir, prover, settings, RunHooks(), _double(lost_on_repair))
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


def test_a_packed_bundle_holds_three_regular_files_readable_by_anyone(packed: Path) -> None:
    with tarfile.open(packed) as tar:
        assert [(m.name, m.type, m.mode) for m in tar] == [
            (name, tarfile.REGTYPE, 0o644) for name in (MANIFEST_MEMBER, ATTEMPTS_MEMBER, SUMMARY_MEMBER)
        ]


def _raw_tar(out: Path, add: Callable[[tarfile.TarFile], None]) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        add(tar)
    return out


def test_archive_tricks_are_refused_before_anything_is_read(packed: Path, tmp_path: Path) -> None:
    members = _members(packed)

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


def _board_is_empty(board: Path) -> bool:
    return not board.exists() or not any(board.rglob("*.json"))


def test_add_reverifies_writes_the_entry_and_renders(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    checked: list[tuple[str, str]] = []

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        checked.append((problem.id, proof))
        return _arith_passes(problem, proof, call)

    entry = add_entry(packed, board, settings, make_verifier=_double(script), sample_fraction=0.5)
    b = read_bundle(packed)
    claimed = [r for r in b.attempts if r.verdict.status is Status.PASS]
    others = len(b.attempts) - len(claimed)
    # Every claimed PASS was checked again, and half of the others.
    assert len(checked) == len(claimed) + round(others * 0.5)
    assert {(r.problem, r.prover.proof) for r in claimed} <= set(checked)
    assert entry.reverification.checked == entry.reverification.reproduced == len(checked)
    assert entry.reverification.claimed_pass == len(claimed) and entry.reverification.others == others
    assert entry.reverification.others_sampled == len(checked) - len(claimed)
    assert entry.reverification.on == [DOUBLE_CHECKER] and datetime.fromisoformat(entry.reverification.at)
    assert entry.stats.solved == len({r.problem for r in claimed}) and entry.stats.problems == 50
    assert entry.stats.by_category["arithmetic"].solved == entry.stats.solved
    config = Board(board).config()
    assert config is not None and config.checkers == [DOUBLE_CHECKER] and config.sample_fraction == 0.5
    published = Board(board).published_attempts(entry)
    assert len(published) == 100 and all(r.prover.proof for r in published)

    with pytest.raises(UserError, match="already on the board as entry 'baseline-test'"):
        add_entry(packed, board, settings, make_verifier=_double())

    html, md = render_board(Board(board))
    for anchor in ('id="chart-intervals"', 'id="chart-categories"', 'id="chart-cost"', 'id="chart-pass-at-k"'):
        assert anchor in html
    assert html.count("<svg") == 4 and not re.search(r"(src|href)=[\"']?https?:|url\(https?:", html)  # offline
    assert "Baseline (test)" in html and "ci@example.org" not in html  # the contact is kept, not published
    assert f"| 1 | Baseline (test) | baseline | {entry.stats.solved}/50 |" in md

    # A weaker second entry (its passes on add_* problems withheld) ranks below the first.
    def weaker(members: dict[str, bytes]) -> None:
        _edit_manifest(lambda m: m["submitter"].update(name="Weaker"))(members)  # type: ignore[attr-defined]
        _edit_attempts(
            lambda rows: [
                r["verdict"].update(status="FAIL", reason="tactic-failed")
                for r in rows
                if r["problem"].startswith("add_")
            ]
        )(members)

    second = add_entry(
        _rewrite(packed, tmp_path / "w.tar.gz", weaker), board, settings, make_verifier=_double(), sample_fraction=0.0
    )
    assert 0 < second.stats.solved < entry.stats.solved
    html, md = render_board(Board(board))
    assert md.index("| 1 | Baseline (test) |") < md.index("| 2 | Weaker |")
    assert html.count("<th>Weaker</th>") == 1 and html.count('class="solved"') == sum(
        1 for e in (entry, second) for c in e.stats.by_problem.values() if c.c
    )


def test_markdown_cells_escape_what_a_submitter_names() -> None:
    from provebench.boards.pages import _md_cell

    assert _md_cell("a|b\n<img src=x>") == "a\\|b &lt;img src=x>"


def test_a_verdict_that_does_not_reproduce_refuses_the_entry(packed: Path, tmp_path: Path, settings: Settings) -> None:
    # The submitter turned a failed attempt into a claimed PASS and fixed the hash to match.
    def forge(rows: list[dict[str, Any]]) -> None:
        row = next(r for r in rows if r["verdict"]["status"] == "FAIL" and r["problem"] == "peirce")
        row["verdict"].update(status="PASS", reason="proved")

    forged = _rewrite(packed, tmp_path / "forged.tar.gz", _edit_attempts(forge))
    board = tmp_path / "board"
    with pytest.raises(EntryRefused) as exc:
        add_entry(forged, board, settings, make_verifier=_double(), sample_fraction=0.0)
    assert "1 of" in str(exc.value) and "do not reproduce" in str(exc.value)
    assert len(exc.value.report) == 1 and exc.value.report[0].startswith("peirce sample ")
    assert "claimed PASS, got FAIL (tactic-failed" in exc.value.report[0]
    assert _board_is_empty(board)


def test_suite_hash_and_checker_identity_must_match_the_board(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    wrong_hash = _rewrite(
        packed,
        tmp_path / "h.tar.gz",
        _edit_manifest(lambda m: m["suite"].update(content_hash="sha256:" + "0" * 64)),  # type: ignore[attr-defined]
    )
    hashes = (
        r"suite hash sha256:0{12}\.\.\. does not match the board.s sha256:[0-9a-f]{12}\.\.\. \(the run used another"
    )
    with pytest.raises(UserError, match=hashes):
        add_entry(wrong_hash, board, settings, make_verifier=_double())
    assert _board_is_empty(board)

    add_entry(packed, board, settings, make_verifier=_double(), sample_fraction=0.0)
    second = _rewrite(
        packed,
        tmp_path / "s.tar.gz",
        _edit_manifest(lambda m: m["submitter"].update(name="Second")),  # type: ignore[attr-defined]
    )

    def checked_by(checker: CheckerInfo) -> Factory:
        class Other(ScriptedVerifierDouble):
            pass

        Other.checker = checker
        return lambda _s, _p: Other(_arith_passes)

    # Another build of the same checker (only the image digest differs) is the board's checker.
    rebuilt = DOUBLE_CHECKER.model_copy(update={"digest": "sha256:rebuilt", "image": "double:elsewhere"})
    add_entry(second, board, settings, make_verifier=checked_by(rebuilt), sample_fraction=0.0)
    # Each part of the identity that differs is named in one line.
    for change, named in (
        ({"recipe": "double:1"}, "recipe (double:1 here, double:0 pinned)"),
        ({"packages": "sha256:1"}, "package list (sha256:1 here, sha256:0 pinned)"),
        ({"version": "2"}, "proof-system version (2 here, double pinned)"),
    ):
        third = _rewrite(
            packed,
            tmp_path / "t.tar.gz",
            _edit_manifest(lambda m: m["submitter"].update(name="Third")),  # type: ignore[attr-defined]
        )
        with pytest.raises(UserError) as exc:
            add_entry(third, board, settings, make_verifier=checked_by(DOUBLE_CHECKER.model_copy(update=change)))
        message = str(exc.value)
        assert message.startswith("this machine's double checker differs from the board's pin in its " + named)
        assert "\n" not in message
        parts = ("recipe (", "package list (", "proof-system version (")
        assert [part for part in parts if part in message] == [part for part in parts if named.startswith(part)]
        hint = (
            "; the same recipe built from other Debian packages: build it from the snapshot the board was pinned with"
            if "packages" in change
            else f"(provebench leaderboard republish --board {board}) or check with the pinned recipe"
        )
        assert message.endswith(hint)

    def relabel(members: dict[str, bytes]) -> None:
        other = DOUBLE_CHECKER.model_copy(update={"recipe": "double:1"})
        _edit_manifest(lambda m: m.update(checkers=[other.model_dump(mode="json")]))(members)
        _edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)  # type: ignore[attr-defined]

    in_the_run = (
        r"the run's double checker differs from the board's pin in its recipe \(double:1 in the run, double:0 pinned\)"
    )
    with pytest.raises(UserError, match=in_the_run + "; re-run on the board's checker$"):
        add_entry(_rewrite(packed, tmp_path / "d.tar.gz", relabel), board, settings, make_verifier=_double())

    def relabel_one_attempt(members: dict[str, bytes]) -> None:
        _edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(packages="sha256:1", version="2"))(members)
        _edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)  # type: ignore[attr-defined]

    both = (
        r"proof-system version \(2 in the run, double pinned\); package list \(sha256:1 in the run, sha256:0 pinned\)$"
    )
    with pytest.raises(UserError, match=r"attempt .* was checked by another checker: " + both):
        add_entry(
            _rewrite(packed, tmp_path / "e.tar.gz", relabel_one_attempt), board, settings, make_verifier=_double()
        )

    def another_recipe(members: dict[str, bytes]) -> None:
        _edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(recipe="double:1"))(members)
        _edit_manifest(lambda m: m["submitter"].update(name="Other"))(members)  # type: ignore[attr-defined]

    with pytest.raises(UserError, match=r"another checker: recipe \(double:1 in the run, double:0 pinned\)$"):
        add_entry(_rewrite(packed, tmp_path / "r.tar.gz", another_recipe), board, settings, make_verifier=_double())
    assert len(Board(board).entries()) == 2


def test_reverification_resumes_after_checker_failures(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    calls: list[str] = []

    def dies_after_three(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        calls.append(problem.id)
        if call > 3:
            return VerifierUnavailable("container gone")
        return _arith_passes(problem, proof, call)

    with pytest.raises(UserError, match="had no verdict .*run leaderboard add again to resume"):
        add_entry(packed, board, settings, make_verifier=_double(dies_after_three), sample_fraction=0.2)
    assert _board_is_empty(board)
    failed = len(calls) - 3  # every check after the third, each tried three times (two infrastructure retries)
    assert failed % 3 == 0
    # Another bundle of the same run, added meanwhile, is checked on its own: it neither borrows nor drops
    # the interrupted one's progress.
    other: list[str] = []

    def counts_other(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        other.append(problem.id)
        return _arith_passes(problem, proof, call)

    second = _renamed(packed, tmp_path / "second.tar.gz", "Second")
    entry = add_entry(second, board, settings, make_verifier=_double(counts_other), sample_fraction=0.2)
    assert len(other) == entry.reverification.checked
    again: list[str] = []

    def counts(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        again.append(problem.id)
        return _arith_passes(problem, proof, call)

    entry = add_entry(packed, board, settings, make_verifier=_double(counts), sample_fraction=0.2)
    assert len(again) == failed // 3 and entry.reverification.checked == failed // 3 + 3
    assert not list((settings.cache_dir / "reverify").iterdir())  # progress is dropped once the entry is in


def test_reverification_runs_on_every_warm_checker_at_once(packed: Path, tmp_path: Path, settings: Settings) -> None:
    met, running, most = threading.Condition(), [0], [0]
    deadline = time.monotonic() + 60

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        with met:
            running[0] += 1
            most[0] = max(most[0], running[0])
            met.notify_all()
            # A check waits until two have run at once (for 60 s in all): checks made one at a time never meet.
            met.wait_for(lambda: most[0] >= 2, timeout=max(0.0, deadline - time.monotonic()))
            running[0] -= 1
        return _arith_passes(problem, proof, call)

    two = settings.model_copy(update={"checkers": 2})
    add_entry(packed, tmp_path / "board", two, make_verifier=_double(script), sample_fraction=0.2)
    assert most[0] == 2


def test_reverification_keeps_a_shorter_run_timeout_and_caps_a_longer_one(tmp_path: Path, settings: Settings) -> None:
    seen: dict[float, int] = {}

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        seen[problem.timeout_s] = seen.get(problem.timeout_s, 0) + 1
        return _arith_passes(problem, proof, call)

    for timeout_s in (5.0, 600.0):
        config = build_config({"suite": "hol-light-core", "timeout_s": timeout_s}, {}, "test")
        plan = plan_run(config, settings)
        prover = make_prover("baseline", {})
        prover.prepare(plan.suite.problems)
        rundir = RunDir.create(tmp_path / f"run{timeout_s}", plan.suite.name, prover.name)
        execute(plan, rundir, prover, settings, RunHooks(), _double())
        out = tmp_path / f"t{timeout_s}.tar.gz"
        bundle.pack(rundir, out, bundle.Submitter(name=f"t{timeout_s}", contact="c", open_data="none"))
        seen.clear()
        add_entry(out, tmp_path / f"board{timeout_s}", settings, make_verifier=_double(script), sample_fraction=1.0)
        own = {p.timeout_s for p in plan.problems}  # hol-light-core's own limits: 30 s, some 60 s
        assert set(seen) == ({5.0} if timeout_s == 5.0 else own) and sum(seen.values()) == 50


@pytest.mark.parametrize(("open_data", "proofs"), [("partial", "passing"), ("none", "none")])
def test_open_data_decides_what_the_board_publishes(
    run: RunDir, tmp_path: Path, settings: Settings, open_data: str, proofs: str
) -> None:
    out = tmp_path / "e.tar.gz"
    bundle.pack(run, out, bundle.Submitter(name="p", contact="c", open_data=open_data))  # type: ignore[arg-type]
    assert all(r.prover.raw_reply is None for r in read_bundle(out).attempts)  # raw replies leave only with full
    board = tmp_path / "board"
    entry = add_entry(out, board, settings, make_verifier=_double(), sample_fraction=0.0)
    published = Board(board).published_attempts(entry)
    assert len(published) == 100
    with_proof = {r.verdict.status for r in published if r.prover.proof}
    assert with_proof == ({Status.PASS} if proofs == "passing" else set())


def test_report_html_holds_charts_and_every_attempt(run: RunDir) -> None:
    html = render_run_report(run)
    assert 'id="chart-pass-at-k"' in html and 'id="chart-categories"' in html and html.count("<svg") == 2
    assert html.count('<tr class="row"') == 100
    data = html.split('id="attempt-data">', 1)[1].split("</script>", 1)[0]
    details = json.loads(data)
    assert len(details) == 100 and details[0]["proof"]
    assert "<script src" not in html and "<link" not in html  # self-contained


def test_cli_submit_add_render_and_errors(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "cli.tar.gz"
    argv = ["submit", str(run.path), "-o", str(out), "--name", "CLI", "--contact", "x@y", "--open-data", "full"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out and out.exists()

    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b garbage")
    assert main(["leaderboard", "add", str(tmp_path / "broken.tar.gz"), "--board", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a submission bundle" in err and "Traceback" not in err
    assert main(["leaderboard", "render", "--board", str(tmp_path / "nope")]) == 2
    assert "no such board folder" in capsys.readouterr().err
    assert main(["submit", str(tmp_path), "--name", "a", "--contact", "b", "--open-data", "none"]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["report", str(run.path), "--html", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")

    # add and render through the CLI, the checker being the double (and no image to build).
    from provebench.cli import board as cli_board
    from provebench.cli import check as cli_check

    built: list[set[str]] = []
    monkeypatch.setattr(cli_check, "ensure_images", lambda _settings, names: built.append(names))
    monkeypatch.setattr(cli_board, "add_entry", functools.partial(add_entry, make_verifier=_double()))
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    board = tmp_path / "cli-board"
    assert main(["leaderboard", "add", str(out), "--board", str(board), "--sample", "0.2"]) == 0
    said = capsys.readouterr()
    assert "added 'cli' to" in said.out and "all reproduced" in said.out and built == [{"hol-light"}]
    assert main(["leaderboard", "render", "--board", str(board)]) == 0
    assert (board / "index.html").is_file() and "| CLI |" in (board / "README.md").read_text()

    forged = _rewrite(
        out,
        tmp_path / "cli-forged.tar.gz",
        _edit_attempts(
            lambda rows: next(r["verdict"] for r in rows if r["verdict"]["status"] == "FAIL").update(status="PASS")
        ),
    )
    forged = _rewrite(forged, forged, _edit_manifest(lambda m: m["submitter"].update(name="F")))  # type: ignore[attr-defined]
    assert main(["leaderboard", "add", str(forged), "--board", str(board)]) == 1
    err = capsys.readouterr().err
    assert "refused: 1 of" in err and "claimed PASS, got FAIL" in err and "Traceback" not in err
    assert [e.id for e in Board(board).entries()] == ["cli"]


def test_cli_add_through_a_service_reverifies_there(
    packed: Path,
    tmp_path: Path,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``leaderboard add --server``: every re-check is a request to the service (here checking with the double)."""
    from provebench.checking.engine import Engine
    from provebench.service.app import create_app
    from provebench.service.state import ServiceState
    from tests.service_support import served

    double = ScriptedVerifierDouble(_arith_passes)
    state = ServiceState(engine=Engine(settings, lambda _s, _p: double))
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    with served(create_app(state)) as url:
        state.name = url
        code = main(["leaderboard", "add", str(packed), "--board", str(tmp_path / "b"), "--server", url])
    said = capsys.readouterr()
    assert code == 0, said.err
    assert "all reproduced" in said.out and f"checking through the provebench service at {url}" in said.err
    assert double.calls, "the service did the checking"
    (entry,) = Board(tmp_path / "b").entries()
    assert entry.reverification is not None


def _renamed(packed: Path, out: Path, name: str, contact: str = "ci@example.org") -> Path:
    """The same run submitted under another name (or contact): another bundle, with its own hash."""
    return _rewrite(packed, out, _edit_manifest(lambda m: m["submitter"].update(name=name, contact=contact)))  # type: ignore[attr-defined]


def test_an_entry_covers_exactly_the_board_s_suite_and_its_revision(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    board = tmp_path / "board"
    add_entry(packed, board, settings, make_verifier=_double(), sample_fraction=0.0)

    def drop_peirce(members: dict[str, bytes]) -> None:
        _edit_manifest(lambda m: m["problems"].remove("peirce"))(members)  # type: ignore[attr-defined]
        _edit_attempts(lambda rows: [rows.remove(r) for r in list(rows) if r["problem"] == "peirce"])(members)

    def add_extra(members: dict[str, bytes]) -> None:
        _edit_manifest(lambda m: m["problems"].append("zz_extra"))(members)  # type: ignore[attr-defined]
        _edit_attempts(lambda rows: rows.extend(dict(rows[0], problem="zz_extra", sample=s) for s in (0, 1)))(members)

    def other_suite(members: dict[str, bytes]) -> None:
        _edit_manifest(lambda m: m["suite"].update(name="other-suite"))(members)  # type: ignore[attr-defined]

    for change, said in (
        (drop_peirce, "the run covers 49 of the 50 problems of hol-light-core (first missing: peirce); "),
        (add_extra, "problem 'zz_extra' is not in suite hol-light-core"),
        (other_suite, "a run of suite 'other-suite'; this board is for 'hol-light-core'"),
    ):
        bad = _rewrite(_renamed(packed, tmp_path / "r.tar.gz", "Second"), tmp_path / "bad.tar.gz", change)
        with pytest.raises(UserError) as exc:
            add_entry(bad, board, settings, make_verifier=_double())
        assert str(exc.value).startswith(f"{bad}: {said}"), str(exc.value)
    # The board pins a suite revision this machine does not have: nothing is re-verified on another one.
    config = Board(board).config()
    assert config is not None
    local_hash = config.suite.content_hash
    pinned = config.model_copy(update={"suite": config.suite.model_copy(update={"content_hash": "sha256:" + "1" * 64})})
    Board(board).write_config(pinned)
    with pytest.raises(UserError) as exc:
        add_entry(_renamed(packed, tmp_path / "s.tar.gz", "Second"), board, settings, make_verifier=_double())
    assert str(exc.value) == (
        f"the local suite hol-light-core ({local_hash[:19]}...) is not the board's revision "
        f"(sha256:111111111111...); re-verification needs the board's"
    )
    assert len(Board(board).entries()) == 1


def test_an_entry_s_name_is_its_own_and_a_stale_one_is_replaced_whole(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    board = tmp_path / "board"
    first = add_entry(packed, board, settings, make_verifier=_double(), sample_fraction=0.5)
    again = _renamed(packed, tmp_path / "again.tar.gz", "Baseline (test)", contact="other@example.org")
    with pytest.raises(UserError) as exc:
        add_entry(again, board, settings, make_verifier=_double())
    assert str(exc.value) == f"the board already has an entry {first.id!r}; submit under another --name"
    # An interrupted add left its temporary folder behind: the next add of that name is not blocked by it.
    entries = board / "entries"
    (entries / ".second.tmp").mkdir()
    (entries / ".second.tmp" / "partial").write_text("torn")
    progress: list[tuple[int, int]] = []
    second = add_entry(
        _renamed(packed, tmp_path / "s.tar.gz", "Second"),
        board,
        settings,
        AddHooks(checked=lambda done, total: progress.append((done, total))),
        make_verifier=_double(),
    )
    # Without a fraction of its own, the board's is used; the progress hook saw every check.
    assert second.reverification.sample_fraction == 0.5
    assert progress and progress[-1] == (second.reverification.checked, second.reverification.checked)
    # A stale entry (the board's checker changed and it did not reproduce) is replaced by its resubmission.
    entry_file = entries / first.id / "entry.json"
    stale = json.loads(entry_file.read_text())
    stale["stale"] = {"reason": "not-reproduced", "detail": "scripted", "since": "2026-01-01T00:00:00+00:00"}
    entry_file.write_text(json.dumps(stale))
    (entries / f".{first.id}.old").mkdir()  # and an earlier replacement was interrupted before its cleanup
    (entries / f".{first.id}.old" / "partial").write_text("torn")
    replaced = add_entry(again, board, settings, make_verifier=_double())
    assert replaced.stale is None and replaced.contact == "other@example.org"
    assert sorted(p.name for p in entries.iterdir()) == [first.id, "second"]


def test_a_check_without_a_verdict_is_named_and_the_add_can_resume(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    # Only sample 0 of add_comm claims a PASS (sample 1's is withheld), and its checker is lost.
    def one_claim(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            if r["problem"] == "add_comm" and r["sample"] == 1:
                r["verdict"].update(status="FAIL", reason="tactic-failed")

    def lost_for_add_comm(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if problem.id == "add_comm":
            return VerifierUnavailable("container lost (scripted)")
        return _arith_passes(problem, proof, call)

    bad = _rewrite(packed, tmp_path / "one.tar.gz", _edit_attempts(one_claim))
    with pytest.raises(UserError) as exc:
        add_entry(bad, tmp_path / "board", settings, make_verifier=_double(lost_for_add_comm), sample_fraction=0.0)
    assert str(exc.value) == (
        "1 re-verification check(s) had no verdict (checker ERROR, first: add_comm); "
        "run leaderboard add again to resume"
    )


def test_an_attempt_of_another_build_is_compared_with_the_pin_of_its_own_recipe(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    # A board pinning two checkers of one proof system: the refusal names the pin of the attempt's recipe.
    other = DOUBLE_CHECKER.model_copy(update={"recipe": "other:0", "image": "other", "packages": "sha256:9"})
    suite = read_bundle(packed).manifest.suite
    (tmp_path / "board").mkdir()
    board = Board(tmp_path / "board")
    board.write_config(BoardConfig(suite=suite, checkers=[other, DOUBLE_CHECKER], sample_fraction=0.0))
    rebuilt = _rewrite(
        packed,
        tmp_path / "r.tar.gz",
        _edit_attempts(lambda rows: rows[0]["verdict"]["checker"].update(recipe="double:1")),
    )
    with pytest.raises(UserError) as exc:
        add_entry(rebuilt, board.path, settings, make_verifier=_double())
    assert str(exc.value).endswith("was checked by another checker: recipe (double:1 in the run, double:0 pinned)")


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
        execute(plan, rundir, prover, settings, RunHooks(), _double())
    manifest = bundle.pack(rundir, tmp_path / "entry.tar.gz", bundle.Submitter(name="a", contact="b", open_data="none"))
    summary = summarize_run(rundir, config)
    assert summary.totals.cost is not None and summary.totals.cost > 0
    assert manifest.budget.cost == summary.totals.cost
    assert manifest.prompt_hashes == prover.template_hashes() and manifest.prompt_hashes
    assert manifest.sampling.protocol == "combibench"
