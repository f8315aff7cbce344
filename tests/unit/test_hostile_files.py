"""Files from users: strict CSV (defect 2 of issue 30), bounded nesting (defect 7), regular files only (defect 10).

Real files in ``tmp_path`` and the real CLI; nothing of the filesystem is mocked.
"""

from __future__ import annotations

import os
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from provebench.boards.bundle import ATTEMPTS_MEMBER, MANIFEST_MEMBER, SUMMARY_MEMBER, read_bundle, write_tar
from provebench.core.errors import UserError
from provebench.core.inputs import read_bytes, read_yaml
from provebench.core.settings import Settings
from provebench.provers.replay import load_answers
from provebench.runs.config import read_ids_file
from provebench.suites.load import find_suite, load_suite
from provebench.suites.s2n_bignum import load_timeout_map
from tests.cli_support import refused_in_one_line

DEEP = 100_000
ROOT = Path(__file__).resolve().parents[2]


def _core_ids() -> list[str]:
    return [p.id for p in find_suite("hol-light-core", Settings(_env_file=None).suites_dir).problems][:50]  # type: ignore[call-arg]


# ---------------------------------------------------------------- defect 2: strict CSV


def test_a_stray_quote_in_a_replay_csv_is_an_error_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _core_ids()
    lines = [f"{pid},ARITH_TAC" for pid in ids]
    lines[1] = f'{ids[1]},"ARITH_TAC'  # the third line of the file: one stray quote
    answers = tmp_path / "answers.csv"
    answers.write_text("problem_id,answer\n" + "\n".join(lines) + "\n")
    with pytest.raises(
        UserError, match=r"answers.csv: line 3: a quoted field opened in the record starting here is never closed"
    ):
        load_answers(answers)
    out = tmp_path / "run"
    argv = ["run", "--suite", "hol-light-core", "--prover", "replay", "--answers", str(answers), "--out", str(out)]
    refused_in_one_line(capsys, argv, "line 3: a quoted field opened in the record starting here is never closed")
    assert not out.exists()


def test_a_quote_closed_on_a_later_line_followed_by_text_is_an_error(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text('problem_id,answer\na,"ARITH_TAC\nb,"MESON_TAC[]"\nc,X\n')
    with pytest.raises(UserError, match=r"line 2: text after the closing quote of a field"):
        load_answers(answers)


def test_quoted_multi_line_answers_with_doubled_quotes_still_load(tmp_path: Path) -> None:
    script = 'REPEAT STRIP_TAC THEN\n  SUBGOAL_THEN `x = 1` (LABEL_TAC "A") THEN\r\n  ASM_MESON_TAC[]'
    quoted = '"' + script.replace('"', '""') + '"'
    answers = tmp_path / "answers.csv"
    answers.write_bytes(
        ("\ufeffproblem_id,category,answer\r\np1,arm," + quoted + "\r\n\r\np2,x86,ARITH_TAC\r\np1,arm,\r\n").encode()
    )
    assert load_answers(answers) == {"p1": [script, ""], "p2": ["ARITH_TAC"]}


def test_an_unquoted_quote_inside_a_field_is_kept_as_text(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text('problem_id,answer\np1,LABEL_TAC "A"\n')
    assert load_answers(answers) == {"p1": ['LABEL_TAC "A"']}


def test_a_stray_quote_in_a_zipped_csv_is_an_error_too(tmp_path: Path) -> None:
    zipped = tmp_path / "answers.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("answers.csv", 'problem_id,answer\np1,ARITH_TAC\np2,"MESON_TAC[]\np3,X\n')
    with pytest.raises(
        UserError, match=r"answers.zip: line 3: a quoted field opened in the record starting here is never closed"
    ):
        load_answers(zipped)


# ---------------------------------------------------------------- defect 7: nesting, in files


def test_deeply_nested_jsonl_answers_are_one_line_errors(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text("[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(UserError, match=r"answers.jsonl: line 1: nested deeper than 64 levels"):
        load_answers(answers)


def test_a_deeply_nested_run_config_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("suite: hol-light-core\nprover: " + "[" * DEEP + "]" * DEEP + "\n")
    refused_in_one_line(capsys, ["run", "--config", str(config), "--dry-run"], "nested deeper than")
    flow = tmp_path / "flow.yaml"
    flow.write_text("suite: hol-light-core\nprover: {name: baseline, x: " + "{a: " * 100 + "1" + "}" * 101 + "\n")
    refused_in_one_line(capsys, ["run", "--config", str(flow), "--dry-run"], "nested deeper than 64 levels")


def test_deeply_nested_importer_inputs_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    timeout_map = tmp_path / "timeout-map.json"
    timeout_map.write_text("[" * DEEP + "]" * DEEP)
    with pytest.raises(UserError, match=r"not a JSON timeout map: nested deeper than 64 levels"):
        load_timeout_map(timeout_map)
    src = tmp_path / "bench"
    src.mkdir()
    (src / "problems.json").write_text('{"a": ' * DEEP + "1" + "}" * DEEP)
    (src / "ml_files").mkdir()
    refused_in_one_line(
        capsys, ["suites", "import", "s2n-bignum", "--from", str(src), "--out", str(tmp_path / "o")], "nested"
    )
    dataset = tmp_path / "combibench.jsonl"
    dataset.write_text('{"x": ' + "[" * DEEP + "]" * DEEP + "}\n")
    refused_in_one_line(
        capsys, ["suites", "import", "combibench", "--from", str(dataset), "--out", str(tmp_path / "c")], "nested"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("problems.yaml", "[" * DEEP + "]" * DEEP),
        ("problems.yaml", "- " * DEEP + "x"),  # block style nests too
        ("problems.jsonl", '{"id": ' + "[" * DEEP + "]" * DEEP + "}\n"),
        ("suite.yaml", "name: " + "{a: " * DEEP + "1" + "}" * DEEP),
    ],
)
def test_a_deeply_nested_suite_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    suite = tmp_path / "deep-suite"
    shutil.copytree(Path(__file__).parents[2] / "problems" / "hol-light-core", suite)
    if name == "problems.jsonl":
        (suite / "suite.yaml").write_text((suite / "suite.yaml").read_text().replace("problems.yaml", name))
    (suite / name).write_text(text)
    with pytest.raises(UserError, match=rf"{name}: (line 1: )?nested deeper than 64 levels"):
        load_suite(suite)
    refused_in_one_line(capsys, ["run", "--suite", str(suite), "--dry-run"], "nested deeper than 64 levels")


def test_a_deeply_nested_bundle_member_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = ("[" * DEEP + "]" * DEEP).encode()
    manifest = tmp_path / "manifest.tar.gz"
    write_tar(manifest, {MANIFEST_MEMBER: deep, ATTEMPTS_MEMBER: b"", SUMMARY_MEMBER: b"{}"})
    with pytest.raises(UserError, match=r"manifest.tar.gz: manifest.json: nested deeper than 64 levels"):
        read_bundle(manifest)
    refused_in_one_line(
        capsys, ["leaderboard", "add", str(manifest), "--board", str(tmp_path / "b")], "nested deeper than 64"
    )
    assert not (tmp_path / "b").exists()


# ---------------------------------------------------------------- defect 10: regular files only, bounded


def test_files_nested_64_deep_are_read_and_65_deep_are_refused(tmp_path: Path) -> None:
    """The limit itself (MAX_DEPTH), below the depth at which the parsers' own recursion gives out."""
    answers, config = tmp_path / "answers.jsonl", tmp_path / "run.yaml"
    for depth in (64, 65):
        inner = "[" * (depth - 1) + "]" * (depth - 1)  # inside a top-level mapping: depth levels in all
        answers.write_text('{"problem": "p", "answer": "x", "note": ' + inner + "}\n")
        config.write_text("suite: hol-light-core\nnote: " + inner + "\n")
        if depth == 64:
            assert load_answers(answers) == {"p": ["x"]} and read_yaml(config)["suite"] == "hol-light-core"
            continue
        with pytest.raises(UserError, match=r"answers.jsonl: line 1: nested deeper than 64 levels"):
            load_answers(answers)
        with pytest.raises(UserError, match=r"run.yaml: nested deeper than 64 levels"):
            read_yaml(config)


def test_a_bounded_read_allocates_what_the_file_holds_not_the_limit(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * 1000)
    tracemalloc.start()
    try:
        assert read_bytes(small, "file", 1 << 30) == b"x" * 1000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # read(limit + 1) took a gigabyte for a kilobyte
    assert b"Name:" in read_bytes(Path("/proc/self/status"))  # size 0 on stat, read on to its end


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    with big.open("wb") as f:
        f.truncate(64 << 20)  # 64 MB, a hole: nothing on disk
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=r"big.jsonl: 67108864 bytes is over the limit of 1000000 bytes for a file"):
            read_bytes(big, "file", 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # read first and measured after, it took the 64 MB


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_devices_and_fifos_are_refused_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fifo: Path, special: str
) -> None:
    path = "/dev/zero" if special == "/dev/zero" else str(fifo)
    out = str(tmp_path / "run")
    core = ["run", "--suite", "hol-light-core"]
    refused_in_one_line(capsys, [*core, "--problems-file", path, "--dry-run"], "not a regular file")
    refused_in_one_line(capsys, [*core, "--prover", "replay", "--answers", path, "--out", out], "not a regular file")
    refused_in_one_line(capsys, ["check", "--system", "hol-light", "--goal", "T", path], "not a regular file")
    refused_in_one_line(capsys, ["check", "--suite", "hol-light-core", "--batch", path], "not a regular file")
    refused_in_one_line(capsys, ["leaderboard", "add", path, "--board", str(tmp_path / "b")], "not a regular file")
    board = tmp_path / "board"  # a board cloned from elsewhere: its entry.json was read until memory ran out
    shutil.copytree(ROOT / "leaderboards" / "hol-light-core", board)
    entry = next(board.glob("entries/*/entry.json"))
    entry.unlink()
    entry.symlink_to(path)
    refused_in_one_line(capsys, ["leaderboard", "render", "--board", str(board)], "not a regular file")
    s2n = ["suites", "import", "s2n-bignum", "--revision", "paper", "--out", str(tmp_path / "s2n")]
    refused_in_one_line(capsys, [*s2n, "--timeout-map", path], "not a regular file")  # before any clone
    with pytest.raises(UserError, match="not a regular file"):
        read_ids_file(Path(path))
    with pytest.raises(UserError, match="not a regular file"):
        load_answers(Path(path))
    assert not Path(out).exists()


def test_a_folder_where_a_file_belongs_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # os.open takes a folder read-only; os.fdopen then raised IsADirectoryError of its own, a traceback.
    with pytest.raises(UserError, match="is a directory, not a problems file"):
        read_ids_file(tmp_path)
    refused_in_one_line(
        capsys, ["run", "--suite", "hol-light-core", "--problems-file", str(tmp_path), "--dry-run"], "is a directory"
    )


def test_a_control_character_in_yaml_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("suite: hol-light-core\x1f\n")  # PyYAML's reader says where on a second line
    refused_in_one_line(
        capsys, ["run", "--config", str(config), "--dry-run"], "invalid YAML: unacceptable character #x001f"
    )
