"""Property tests for the readers of a run's own files, which a user may edit, truncate or replace.

A journal (``read_journal``, ``RunDir.records``), a run config (``read_config_file`` then
``build_config``) and a run manifest (``read_run_manifest``), fed generated junk in real files, each
return a value or raise a one-line ``UserError``; nothing else. Junk is of two kinds: arbitrary
bytes or text, and near misses (a real run's files with one part replaced, dropped or repeated),
which get past the parsers to the checks behind them. What a reader returns is checked too.

Example counts are set on each test (``max_examples``); one file per test is rewritten per example.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord, Journal, ProverAnswer, read_journal
from provebench.core.model import CheckerInfo, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import RunConfig, build_config, read_config_file
from provebench.runs.manifest import RunManifest, read_run_manifest
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble, passes_if

# tmp_path is per test, not per example: each example writes its files whole before reading them.
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PROBLEMS = ("excluded_middle", "add_comm", "peirce")
V1_JOURNAL = Path(__file__).resolve().parents[1] / "fixtures" / "v1" / "run" / "attempts.jsonl"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A finished baseline run of three problems, n=2, one repair round: the originals the near misses start from."""
    config = build_config({"suite": "hol-light-core", "problems": list(PROBLEMS), "n": 2, "repair_rounds": 1}, {}, "t")
    run_settings = Settings(checkers=1, infra_backoff_s=0)
    plan = plan_run(config, run_settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    rd = RunDir.create(tmp_path_factory.mktemp("real") / "run", plan.suite.name, prover.name)
    verifier = ScriptedVerifierDouble(passes_if("MESON_TAC[]"))
    execute(plan, rd, prover, run_settings, RunHooks(), lambda _s, _p: verifier)
    return rd


def _one_line(exc: UserError) -> None:
    event("refused")  # with "read" below: --hypothesis-show-statistics shows both outcomes are reached
    text = str(exc)
    assert text and len(text.splitlines()) == 1, repr(text)


T = TypeVar("T")


def _read_or_refused(read: Callable[[], T], check: Callable[[T], None]) -> None:
    """A reader either returns what ``check`` accepts or raises the one-line error; nothing else."""
    try:
        value = read()
    except UserError as exc:
        _one_line(exc)
    else:
        event("read")
        check(value)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside a JSON-like value (the root too)."""
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*at, i))


@st.composite
def near_miss(draw: st.DrawFn, original: Any) -> Any:
    """``original`` (JSON-like, copied) with one to three places replaced by junk, dropped or doubled."""
    value = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(list(_paths(value))))
        if not at:
            return draw(json_values)
        parent = value
        for step in at[:-1]:
            parent = parent[step]
        key = at[-1]
        how = draw(st.sampled_from(["replace", "drop", "double", "add"]))
        if how == "replace":
            parent[key] = draw(json_values)
        elif how == "drop":
            del parent[key]
        elif how == "double" and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values)
    return value


# ---------------------------------------------------------------- journals


def _check_journal(records: list[AttemptRecord], problems: frozenset[str] | None) -> None:
    """What a journal read promises: records for the run's problems, each key decided at most once."""
    decided: set[tuple[str, int, int]] = set()
    for r in records:
        assert isinstance(r, AttemptRecord)
        assert problems is None or r.problem in problems
        assert r.key not in decided
        if r.verdict.status is not Status.ERROR:
            decided.add(r.key)


@settings(PROPERTY, max_examples=300)
@given(
    data=st.binary(max_size=1500) | st.lists(st.binary(max_size=80), max_size=8).map(lambda ls: b"\n".join(ls) + b"\n"),
    problems=st.none() | st.just(frozenset(PROBLEMS)),
)
@example(data=b"{" * 100_000 + b"\n", problems=None)
@example(data=b'{"problem": "a", "sample": ' + b"9" * 5000 + b"}\n", problems=None)
@example(data=b"\xff\xfe{}\n", problems=None)
def test_journal_reader_on_junk_bytes(tmp_path: Path, data: bytes, problems: frozenset[str] | None) -> None:
    path = tmp_path / "attempts.jsonl"
    path.write_bytes(data)
    _read_or_refused(lambda: read_journal(path, problems), lambda records: _check_journal(records, problems))


@st.composite
def journal_lines(draw: st.DrawFn, originals: list[dict[str, Any]]) -> str:
    """A real journal's records, shuffled, some repeated, altered or replaced by junk; maybe a torn tail."""
    rows: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["real", "altered", "made", "junk", "blank"]))
        if kind == "real":
            rows.append(json.dumps(draw(st.sampled_from(originals))))
        elif kind == "altered":
            rows.append(json.dumps(draw(near_miss(draw(st.sampled_from(originals))))))
        elif kind == "made":
            made = {
                "problem": draw(st.sampled_from([*PROBLEMS, "unknown", ""])),
                "sample": draw(st.integers(-1, 2)),
                "round": draw(st.integers(0, 1)),
                "status": draw(st.sampled_from([s.value for s in Status])),
                "reason": draw(st.sampled_from([r.value for r in Reason])),
            }
            rows.append(json.dumps(made))
        elif kind == "junk":
            rows.append(draw(st.text(max_size=40)).replace("\n", " "))
        else:
            rows.append(draw(st.sampled_from(["", " ", "\t", "\r"])))
    torn = draw(st.sampled_from(["", json.dumps(originals[0])[:17], "{"]))
    return "".join(row + "\n" for row in rows) + torn


def _originals(rd: RunDir) -> list[dict[str, Any]]:
    """The real run's records, and records of the same problems that a run before schema v2 wrote."""
    v1 = [json.loads(line) for line in V1_JOURNAL.read_text().splitlines()]
    return [json.loads(line) for line in rd.journal_path.read_text().splitlines()] + [
        r for r in v1 if r["problem"] in PROBLEMS
    ]


@settings(PROPERTY, max_examples=300)
@given(data=st.data(), listed=st.booleans())
def test_journal_reader_on_near_miss_records(
    tmp_path: Path, real_run: RunDir, data: st.DataObject, listed: bool
) -> None:
    path = tmp_path / "attempts.jsonl"
    text = data.draw(journal_lines(_originals(real_run)))
    path.write_text(text, encoding="utf-8")
    problems = frozenset(PROBLEMS) if listed else None

    def check(records: list[AttemptRecord]) -> None:
        _check_journal(records, problems)
        whole = text[: text.rfind("\n") + 1]  # a torn tail is never read, and nothing else is skipped
        assert len(records) == sum(1 for line in whole.split("\n")[:-1] if line.strip())

    _read_or_refused(lambda: read_journal(path, problems, [DOUBLE_CHECKER]), check)


@st.composite
def fresh_records(draw: st.DrawFn) -> list[AttemptRecord]:
    """Valid records, each key at most once: what a run itself journals."""
    keys = draw(st.lists(st.tuples(st.sampled_from(PROBLEMS), st.integers(0, 3), st.integers(0, 2)), unique=True))
    return [
        AttemptRecord(
            problem=p,
            sample=s,
            round=r,
            prover=ProverAnswer(proof=draw(st.none() | st.text(max_size=60)), tokens_in=draw(st.integers(0, 10**6))),
            verdict=Verdict(
                status=draw(st.sampled_from(list(Status))),
                reason=draw(st.sampled_from(list(Reason))),
                messages=tuple(draw(st.lists(st.text(max_size=20), max_size=2))),
                check_seconds=draw(st.floats(0, 1e6)),
                checker=draw(st.none() | st.just(DOUBLE_CHECKER)),
            ),
        )
        for p, s, r in keys
    ]


@settings(PROPERTY, max_examples=150)
@given(records=fresh_records(), torn=st.text(max_size=30).filter(lambda t: "\n" not in t))
def test_journal_round_trip_survives_a_torn_tail(tmp_path: Path, records: list[AttemptRecord], torn: str) -> None:
    """What the journal appends reads back the same, with or without a line torn after it; appending goes on."""
    path = tmp_path / "attempts.jsonl"
    path.unlink(missing_ok=True)
    with Journal(path) as journal:
        for r in records[:-1]:
            journal.append(r)
    with path.open("a", encoding="utf-8") as f:
        f.write(torn)  # a process killed mid-write
    assert read_journal(path, PROBLEMS) == records[:-1]
    with Journal(path) as journal:  # a resumed run cuts the torn line and appends after the whole ones
        for r in records[-1:]:
            journal.append(r)
    assert read_journal(path, PROBLEMS) == records


def _manifest_file(rd: RunDir, how: str, original: dict[str, Any], data: st.DataObject) -> None:
    rd.manifest_path.unlink(missing_ok=True)
    if how == "real":
        rd.manifest_path.write_text(json.dumps(original), encoding="utf-8")
    elif how == "altered":
        rd.manifest_path.write_text(json.dumps(data.draw(near_miss(original))), encoding="utf-8")
    elif how == "junk":
        rd.manifest_path.write_bytes(data.draw(st.binary(max_size=200)))


@settings(PROPERTY, max_examples=200)
@given(data=st.data(), how=st.sampled_from(["real", "altered", "junk", "missing"]))
def test_run_records_on_near_miss_journals_and_manifests(
    tmp_path: Path, real_run: RunDir, data: st.DataObject, how: str
) -> None:
    """``RunDir.records``: the journal checked against whatever manifest is there (or is not)."""
    rd = RunDir(tmp_path)
    original = json.loads(real_run.manifest_path.read_text())
    _manifest_file(rd, how, original, data)
    rd.journal_path.write_text(data.draw(journal_lines(_originals(real_run))), encoding="utf-8")
    try:
        records = rd.records()
    except UserError as exc:
        _one_line(exc)
    else:
        event("read")
        assert how != "missing" or records == []  # attempts without a manifest are refused
        _check_journal(records, None if how == "missing" else frozenset(rd.read_manifest().problem_ids()))


# ---------------------------------------------------------------- run configs


def _read_config(path: Path) -> RunConfig:
    return build_config(read_config_file(path), {}, str(path))


def _check_config(config: RunConfig) -> None:
    assert isinstance(config, RunConfig) and config.suite
    assert config.n >= 1 and all(1 <= k <= config.n for k in config.ks)


@settings(PROPERTY, max_examples=300)
@given(text=st.text(max_size=400) | st.text(max_size=400).map(lambda t: "suite: hol-light-core\n" + t))
@example(text="n: " + "9" * 5000)
@example(text="seed: !!timestamp 2020-13-45")
@example(text="suite: x\nn: !!python/object/apply:os.system ['true']")
@example(text="[" * 5_000)  # past the recursion limit; PyYAML scans slowly
@example(text="&a [*a]")
@example(text="suite: x\n? [a, b]\n: 1")
def test_run_config_reader_on_junk_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    _read_or_refused(lambda: _read_config(path), _check_config)


yaml_values = st.recursive(
    scalars | st.dates() | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(scalars, inner, max_size=3),
    max_leaves=8,
)


# For each setting, values of its own type (so that some configs are valid) or of any YAML type.
_SETTING_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(-1, 20),
    "k": st.lists(st.integers(-1, 20), max_size=3) | st.none(),
    "repair_rounds": st.integers(-1, 200),
    "prover_connections": st.integers(0, 2000),
    "checkers": st.integers(0, 100) | st.none(),
    "timeout_s": st.floats() | st.none(),
    "infra_retries": st.integers(-1, 30),
    "categories": st.lists(st.text(max_size=8), max_size=3),
    "problems": st.lists(st.text(max_size=8), max_size=3),
    "problems_file": st.text(max_size=12) | st.none(),
    "limit": st.integers(-1, 5) | st.none(),
    "seed": st.integers(),
    "out": st.text(max_size=12) | st.none(),
    "protocol": st.sampled_from(["provebench", "combibench", "other"]),
    "prover": st.sampled_from(["baseline", "replay"])
    | st.fixed_dictionaries({"name": st.sampled_from(["baseline", "replay"])}, optional={"answers": st.text()})
    | st.dictionaries(st.text(max_size=10), yaml_values, max_size=3),
}


@st.composite
def run_settings(draw: st.DrawFn) -> dict[Any, Any]:
    """A config's mapping: a suite, some known settings with valid or junk values, maybe unknown keys."""
    suite = draw(st.sampled_from(["hol-light-core", "", "x"]) if draw(st.integers(0, 3)) else yaml_values)
    out: dict[Any, Any] = {"suite": suite}
    for key in draw(st.lists(st.sampled_from(sorted(_SETTING_VALUES)), unique=True, max_size=6)):
        junk = draw(st.integers(0, 3)) == 0  # mostly values of the setting's type, so that a fair share is valid
        out[key] = draw(yaml_values if junk else _SETTING_VALUES[key])
    if draw(st.integers(0, 3)) == 0:
        out.update(draw(st.dictionaries(scalars, yaml_values, min_size=1, max_size=2)))
    return out


@settings(PROPERTY, max_examples=300)
@given(settings_=run_settings(), new_prover=st.none() | st.sampled_from(["baseline", "replay", "other"]))
def test_run_config_reader_on_near_miss_settings(
    tmp_path: Path, settings_: dict[Any, Any], new_prover: str | None
) -> None:
    """Known settings, values of their type or of any YAML type, unknown keys; maybe a prover from the command line."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings_, allow_unicode=True), encoding="utf-8")
    overrides = {"prover": {"name": new_prover} if new_prover else {}}
    _read_or_refused(lambda: build_config(read_config_file(path), overrides, "t"), _check_config)


@settings(PROPERTY, max_examples=200)
@given(data=st.data())
def test_run_config_reader_on_a_real_config_altered(tmp_path: Path, real_run: RunDir, data: st.DataObject) -> None:
    original = yaml.safe_load(real_run.config_path.read_text())
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data.draw(near_miss(original)), allow_unicode=True), encoding="utf-8")
    _read_or_refused(lambda: _read_config(path), _check_config)


# ---------------------------------------------------------------- run manifests


def _check_manifest(manifest: RunManifest) -> None:
    """What readers use without checking again."""
    ids = manifest.problem_ids()
    assert ids and all(isinstance(i, str) and i for i in ids) and len(set(ids)) == len(ids)
    assert all(isinstance(p.category, str) for p in manifest.problems)
    assert manifest.suite.content_hash.startswith("sha256:") and manifest.suite.name
    assert all(isinstance(s.index, int) and s.index >= 0 for s in manifest.sessions)
    assert all(isinstance(c, CheckerInfo) for c in manifest.checkers)
    written = manifest.model_dump(mode="json")  # what a resume writes back reads, and is written the same again
    assert RunManifest.model_validate(written).model_dump(mode="json") == written


@settings(PROPERTY, max_examples=300)
@given(data=st.binary(max_size=1500))
@example(data=b"[" * 100_000)
@example(data=b"1" * 5000)
@example(data=b'{"problems": [' + b"9" * 5000 + b"]}")
@example(data=b"NaN")
@example(data=b"\x00\x00\x00{")
def test_run_manifest_reader_on_junk_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(data)
    _read_or_refused(lambda: read_run_manifest(path), _check_manifest)


@settings(PROPERTY, max_examples=300)
@given(data=st.data())
def test_run_manifest_reader_on_a_real_manifest_altered(tmp_path: Path, real_run: RunDir, data: st.DataObject) -> None:
    original = json.loads(real_run.manifest_path.read_text())
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data.draw(near_miss(original))), encoding="utf-8")
    _read_or_refused(lambda: read_run_manifest(path), _check_manifest)
