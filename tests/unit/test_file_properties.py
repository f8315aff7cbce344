"""Property tests (Hypothesis) of the readers of users' files (issue 30): replay answers (CSV, JSONL),
submission bundles, suites (problems files, suite.yaml) and run configs. Fed generated junk, or valid input
with one field made junk, each returns a value or raises the one-line ``UserError``, nothing else; what
loads has finite, bounded limits; what csv.writer and json.dumps write reads back exactly.

Each example is a real file: one path under ``tmp_path`` written over per example (hence the suppressed
function-scoped-fixture health check). Example counts are set per test so the whole file stays quick.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import shutil
import tarfile
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from provebench.boards import bundle
from provebench.boards.bundle import ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER, read_bundle
from provebench.core.errors import UserError
from provebench.core.inputs import MAX_COUNT, MAX_TIMEOUT_S
from provebench.core.model import Reason, Status
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.provers.replay import load_answers
from provebench.runs.config import RunConfig, build_config, read_config_file
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.extensions import known_extensions
from provebench.suites.load import SuiteManifest, load_suite
from tests.doubles.verifier import ScriptedVerifierDouble, verdict


def examples(n: int) -> settings:
    """``n`` examples, each on a real file; no deadline (the machine is shared, timings vary)."""
    return settings(max_examples=n, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


# Text that exercises CSV and JSON: mostly their special characters, sometimes anything at all.
_SPECIAL = st.sampled_from(['"', ",", "\n", "\r", "\r\n", " ", "a", "{", "}", "[", "]", ":", "\\", "\u2028"])
JUNK = st.lists(st.one_of(_SPECIAL, st.text(max_size=8)), max_size=60).map("".join)
ANSWER = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=40)
PROBLEM_ID = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)


def _one_line_error(exc: UserError) -> None:
    assert "\n" not in str(exc) and "\r" not in str(exc) and len(str(exc)) < 2000, str(exc)


def _answers_or_error(path: Path) -> None:
    try:
        answers = load_answers(path)
    except UserError as exc:
        _one_line_error(exc)
        event("refused")
        return
    event("loaded")
    assert answers and all(isinstance(k, str) and all(isinstance(a, str) for a in v) for k, v in answers.items())


def _grouped(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for pid, answer in rows:
        out[pid].append(answer)
    return dict(out)


# ---------------------------------------------------------------- replay answers, CSV


@examples(400)
@given(header=st.sampled_from(["", "problem_id,answer\n", "problem_id,answer\r\n", "answer,x,problem_id\n"]), body=JUNK)
def test_any_text_as_a_csv_answers_file_loads_or_is_a_one_line_error(tmp_path: Path, header: str, body: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes((header + body).encode("utf-8"))
    _answers_or_error(path)


@examples(200)
@given(
    rows=st.lists(st.tuples(PROBLEM_ID, ANSWER), min_size=1, max_size=12),
    # csv.writer quotes a lone CR only when it is part of the line ending: with "\n" endings, quote all.
    style=st.sampled_from([(csv.QUOTE_MINIMAL, "\r\n"), (csv.QUOTE_ALL, "\r\n"), (csv.QUOTE_ALL, "\n")]),
)
def test_a_csv_as_spreadsheets_write_it_reads_back_exactly(
    tmp_path: Path, rows: list[tuple[str, str]], style: tuple[int, str]
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=style[0], lineterminator=style[1])
    writer.writerow(["problem_id", "answer"])
    writer.writerows(rows)
    path = tmp_path / "answers.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    assert load_answers(path) == _grouped(rows)


@examples(200)
@given(
    rows=st.lists(
        st.tuples(
            PROBLEM_ID, st.text(alphabet=st.characters(codec="utf-8", exclude_characters='\0",\r\n'), max_size=30)
        ),
        min_size=1,
        max_size=12,
    ),
    data=st.data(),
)
def test_a_stray_quote_is_an_error_naming_its_line_or_plain_text(
    tmp_path: Path, rows: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Defect 2 as a property: a quote opening an answer and never closed is an error naming its line;
    a quote further in is text. Either way no answer is swallowed silently."""
    at = data.draw(st.integers(0, len(rows) - 1), label="row")
    pid, answer = rows[at]
    cut = data.draw(st.integers(0, len(answer)), label="quote at")
    rows[at] = (pid, answer[:cut] + '"' + answer[cut:])
    path = tmp_path / "answers.csv"
    path.write_bytes(("problem_id,answer\n" + "".join(f"{p},{a}\n" for p, a in rows)).encode("utf-8"))
    if cut == 0:
        try:
            load_answers(path)
        except UserError as exc:
            assert f"line {at + 2}: a quoted field opened in the record starting here is never closed" in str(exc)
        else:
            raise AssertionError("a quote left open was accepted")
    else:
        assert load_answers(path) == _grouped(rows)


# ---------------------------------------------------------------- replay answers, JSON Lines


@examples(400)
@given(body=JUNK)
def test_any_text_as_a_jsonl_answers_file_loads_or_is_a_one_line_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_bytes(body.encode("utf-8"))
    _answers_or_error(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@examples(200)
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=6))
def test_any_json_values_as_answers_load_or_are_a_one_line_error(tmp_path: Path, values: list[object]) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    _answers_or_error(path)


@examples(200)
@given(rows=st.lists(st.tuples(PROBLEM_ID, ANSWER), min_size=1, max_size=12), ascii_only=st.booleans())
def test_jsonl_answers_read_back_exactly(tmp_path: Path, rows: list[tuple[str, str]], ascii_only: bool) -> None:
    path = tmp_path / "answers.jsonl"
    lines = (json.dumps({"problem": p, "answer": a}, ensure_ascii=ascii_only) + "\n" for p, a in rows)
    path.write_text("".join(lines), encoding="utf-8")
    assert load_answers(path) == _grouped(rows)


# ---------------------------------------------------------------- bundles


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A valid bundle: a finished baseline run on hol-light-core, checked by the scripted double, packed."""
    tmp = tmp_path_factory.mktemp("packed")
    settings = Settings(cache_dir=tmp / "cache", suites_dir=tmp / "suites", infra_backoff_s=0)
    plan = plan_run(build_config({"suite": "hol-light-core"}, {}, "test"), settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp / "run", plan.suite.name, prover.name)
    fails = ScriptedVerifierDouble(lambda _problem, _proof, _call: verdict(Status.FAIL, Reason.TACTIC_FAILED))
    execute(plan, rundir, prover, settings, RunHooks(), lambda _problems, _settings: fails)
    out = tmp / "entry.tar.gz"
    bundle.pack(rundir, out, bundle.Submitter(name="t", contact="t@example.org", open_data="full"))
    return out.read_bytes()


def _bundle_or_error(path: Path) -> bundle.Bundle | None:
    try:
        read = read_bundle(path)
    except UserError as exc:
        _one_line_error(exc)
        event("refused")
        return None
    event("read")
    return read


@examples(300)
@given(raw=st.binary(max_size=2048), gzipped=st.booleans())
def test_any_bytes_as_a_bundle_are_read_or_a_one_line_error(tmp_path: Path, raw: bytes, gzipped: bool) -> None:
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    assert _bundle_or_error(path) is None


TAR_NAMES = st.one_of(
    st.sampled_from([MANIFEST_MEMBER, ATTEMPTS_MEMBER, SUMMARY_MEMBER, "./manifest.json", "../x", "/abs", "a/b"]),
    st.text(min_size=1, max_size=120),
)
TAR_TYPES = st.sampled_from(
    [tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]
    + [tarfile.FIFOTYPE, tarfile.CHRTYPE, b"Z"]
)
PAX_RECORDS = st.dictionaries(
    st.sampled_from(["comment", "path", "linkpath", "mtime", "uname", "size", "GNU.sparse.size", "hdrcharset"]),
    st.text(max_size=20),
    max_size=3,
)
MEMBER_DATA = st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda v: json.dumps(v).encode()))


@examples(300)
@given(
    entries=st.lists(st.tuples(TAR_NAMES, TAR_TYPES, MEMBER_DATA, PAX_RECORDS), max_size=5),
    fmt=st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
)
def test_generated_tar_archives_as_bundles_are_read_or_a_one_line_error(
    tmp_path: Path, entries: list[tuple[str, bytes, bytes, dict[str, str]]], fmt: int
) -> None:
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
            for name, type_, data, pax in entries:
                info = tarfile.TarInfo(name)
                info.type, info.size = type_, len(data) if type_ in tarfile.REGULAR_TYPES else 0
                info.linkname = "manifest.json" if type_ in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
                info.pax_headers = pax
                tar.addfile(info, io.BytesIO(data) if info.size else None)
    except (ValueError, UnicodeError):
        assume(False)  # a name or record this tar format cannot write
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(buffer.getvalue()))
    assert _bundle_or_error(path) is None  # nothing generated here is a whole, consistent bundle


def _fix_checksum(tar: bytearray, header: int) -> None:
    """Set a 512-byte header's checksum for its bytes as they now are (as a careful forger would)."""
    block = tar[header : header + tarfile.BLOCKSIZE]
    block[148:156] = b" " * 8
    tar[header + 148 : header + 156] = b"%06o\0 " % sum(block)


@examples(300)
@given(
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=4),
    fix=st.booleans(),
    cut=st.none() | st.integers(0, 1 << 20),
)
def test_an_altered_bundle_is_read_or_a_one_line_error(
    tmp_path: Path, packed: bytes, edits: list[tuple[int, int]], fix: bool, cut: int | None
) -> None:
    tar = bytearray(gzip.decompress(packed))
    headers = [m.offset for m in tarfile.open(fileobj=io.BytesIO(bytes(tar)))]
    for at, value in edits:
        tar[at % len(tar)] = value
        header = next((h for h in headers if h <= at % len(tar) < h + tarfile.BLOCKSIZE), None)
        if fix and header is not None:
            _fix_checksum(tar, header)
    if cut is not None:
        del tar[cut % len(tar) :]
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(bytes(tar)))
    read = _bundle_or_error(path)
    if not edits and cut is None:
        assert read is not None  # the unaltered bundle reads
    if read is not None:
        assert read.manifest.attempts.count == len(read.attempts)


# ---------------------------------------------------------------- suites: problems files and suite.yaml

NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20), st.floats(), st.sampled_from(["1e400", ".inf", "30", ""]), st.none()
)
VALUES = st.one_of(NUMBERS, st.booleans(), st.text(max_size=20), JSON_VALUES)
EXTENSION_FIELDS = sorted({name for ext in known_extensions().values() for name in ext.model_fields})


def _with_junk(valid: st.SearchStrategy[dict[str, object]], keys: list[str]) -> st.SearchStrategy[dict[str, object]]:
    """Valid mappings, half of them with one field set to junk: both the happy path and each field's checks."""
    junk = st.one_of(st.just({}), st.dictionaries(st.sampled_from(keys), VALUES, min_size=1, max_size=1))
    return st.builds(lambda v, j: {**v, **j}, valid, junk)


TIMEOUTS = st.one_of(st.integers(1, 10**6), st.floats(0.001, 1e6))  # some over a week: refused
PROBLEM_ENTRY = _with_junk(
    st.fixed_dictionaries(
        {
            "id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._'-]{0,6}", fullmatch=True),
            "statement": st.sampled_from(["!n. n + 0 = n", "T", "p ==> p"]),
        },
        optional={
            "category": st.text(max_size=8),
            "timeout_s": TIMEOUTS,
            "informal": st.text(max_size=12),
            "reference_proof": st.sampled_from(["ARITH_TAC", "MESON_TAC[]"]),
            "template": st.sampled_from(["t.ml", "missing.ml", "../outside.ml", "templates"]),
            "template_line": st.integers(1, 3),
            "statement_is_expression": st.booleans(),
        },
    ),
    ["id", "statement", "kind", "category", "timeout_s", "informal", "template", "template_line", "other"]
    + EXTENSION_FIELDS,
)


@pytest.fixture
def suite_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "suite"
    shutil.copytree(Path(__file__).parents[2] / "problems" / "hol-light-core", folder)
    (folder / "t.ml").write_text("let x = 1;;\nprove_it ();;\n")
    (folder / "templates").mkdir()
    return folder


def _suite_or_error(folder: Path) -> None:
    try:
        suite = load_suite(folder)
    except UserError as exc:
        _one_line_error(exc)
        event("refused")
        return
    event("loaded")
    assert suite.problems
    for p in suite.problems:  # loaded problems have finite, bounded limits (defect 9)
        assert math.isfinite(p.timeout_s) and 0 < p.timeout_s <= MAX_TIMEOUT_S, p


@examples(300)
@given(entries=st.one_of(st.lists(PROBLEM_ENTRY, max_size=4), VALUES), as_jsonl=st.booleans())
def test_any_problems_file_loads_or_is_a_one_line_error(suite_folder: Path, entries: object, as_jsonl: bool) -> None:
    manifest = suite_folder / "suite.yaml"
    name = "problems.jsonl" if as_jsonl else "problems.yaml"
    manifest.write_text(re.sub(r"(?m)^problems_file: .*$", f"problems_file: {name}", manifest.read_text()))
    if as_jsonl:
        rows = entries if isinstance(entries, list) else [entries]
        text = "".join(json.dumps(row) + "\n" for row in rows)
    else:
        text = yaml.safe_dump(entries)
    (suite_folder / name).write_text(text)
    _suite_or_error(suite_folder)


@examples(200)
@given(body=JUNK)
def test_any_text_as_a_problems_file_loads_or_is_a_one_line_error(suite_folder: Path, body: str) -> None:
    (suite_folder / "problems.yaml").write_text(body)
    _suite_or_error(suite_folder)


SUITE_MANIFEST = _with_junk(
    st.fixed_dictionaries(
        {
            "name": st.just("s"),
            "system": st.just("hol-light"),
            "version": st.just("1"),
            "checker_image": st.just("hol-light"),
        },
        optional={
            "default_timeout_s": TIMEOUTS,
            "timeout_scale": st.floats(0.001, 2000),
            "memory_mb": st.integers(0, 1 << 22),
            "context_memory_mb": st.integers(0, 1 << 22),
            "template_includes": st.booleans(),
            "checker": st.sampled_from(["native", "bytecode"]),
            "problems_file": st.sampled_from(["problems.yaml", "missing.yaml", "templates", "."]),
        },
    ),
    list(SuiteManifest.model_fields) + ["other"],
)


@examples(300)
@given(manifest=st.one_of(SUITE_MANIFEST, VALUES))
def test_any_suite_manifest_loads_or_is_a_one_line_error(suite_folder: Path, manifest: object) -> None:
    (suite_folder / "suite.yaml").write_text(yaml.safe_dump(manifest))
    _suite_or_error(suite_folder)


# ---------------------------------------------------------------- run configs

RUN_CONFIG = _with_junk(
    st.fixed_dictionaries(
        {"suite": st.sampled_from(["hol-light-core", "lean4-core", "nope"])},
        optional={
            "prover": st.sampled_from(["baseline", "replay", "openai", "nope"]),
            "n": st.integers(1, 20),
            "k": st.lists(st.integers(1, 20), max_size=3),
            "repair_rounds": st.integers(0, 3),
            "timeout_s": TIMEOUTS,
            "checkers": st.integers(1, 100),
            "categories": st.lists(st.sampled_from(["logic", "sets", "nope"]), max_size=2),
            "problems": st.lists(st.sampled_from(["excluded_middle", "peirce", "nope"]), max_size=2),
            "problems_file": st.sampled_from(["ids.txt", "missing.txt", "."]),
            "limit": st.integers(1, 10**10),
            "seed": st.integers(-(2**64), 2**64),
            "protocol": st.sampled_from(["provebench", "combibench"]),
        },
    ),
    list(RunConfig.model_fields) + ["other"],
)


def _run_config_or_error(path: Path, settings: Settings) -> None:
    try:
        config = build_config(read_config_file(path), {}, str(path))
        plan_run(config, settings)
        make_prover(config.prover.name, config.prover.settings())
    except UserError as exc:
        _one_line_error(exc)
        event("refused")
        return
    event("planned")
    assert 1 <= config.n <= 10_000
    assert config.timeout_s is None or 0 < config.timeout_s <= MAX_TIMEOUT_S
    assert config.limit is None or 1 <= config.limit <= MAX_COUNT


@examples(300)
@given(data=st.one_of(RUN_CONFIG, VALUES))
def test_any_run_config_builds_or_is_a_one_line_error(tmp_path: Path, data: object) -> None:
    (tmp_path / "ids.txt").write_text("excluded_middle\n# a comment\n")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data))
    _run_config_or_error(path, Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites"))


@examples(200)
@given(body=JUNK)
def test_any_text_as_a_run_config_builds_or_is_a_one_line_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(body)
    _run_config_or_error(path, Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites"))
