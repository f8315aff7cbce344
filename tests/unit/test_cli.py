"""CLI behaviour that needs no checker: bad usage and bad input exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_help_explains_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "Exit codes: 0 PASS" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "--system", "coq", "--goal", "x"])
    assert info.value.code == 2
    one_line_error(capsys.readouterr().err, "invalid choice")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check", "--suite", "nope", "--problem", "x", "p.ml"], "unknown suite 'nope'"),
        (["check", "--suite", "hol-light-core", "--problem", "nope", "p.ml"], "has no problem 'nope'"),
        (["check", "--suite", "hol-light-core", "p.ml"], "--suite needs --problem"),
        (["check", "p.ml"], "say what to prove"),
        (["check", "--system", "hol-light", "--goal", "T", "missing.ml"], "missing.ml: proof file not found"),
        (["check", "--batch", "missing.jsonl"], "missing.jsonl: batch file not found"),
        (["suites", "selftest", "nope"], "unknown suite 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.ml").write_text("ARITH_TAC")
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_line_error(err, fragment)


def test_binary_and_huge_proofs_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "bin.ml"
    binary.write_bytes(b"ARITH_TAC\x00\xff\xfe")
    code, _, err = run(capsys, "check", "--system", "hol-light", "--goal", "T", str(binary))
    assert code == 2
    one_line_error(err, "binary data")
    huge = tmp_path / "huge.ml"
    huge.write_bytes(b"ARITH_TAC " * 200_000)
    code, _, err = run(capsys, "check", "--system", "hol-light", "--goal", "T", str(huge))
    assert code == 2
    one_line_error(err, "over the limit of 1000000 bytes for a proof file")
    latin1 = tmp_path / "latin1.ml"
    latin1.write_bytes("ARITH_TAC (* caf\u00e9 *)".encode("latin-1"))
    code, _, err = run(capsys, "check", "--system", "hol-light", "--goal", "T", str(latin1))
    assert code == 2
    one_line_error(err, "not UTF-8 text")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"proof": "ARITH_TAC", "problem": "add_comm"}\n{not json\n', "line 2: invalid JSON"),
        ('{"problem": "add_comm"}\n', "line 1: needs a string field 'proof'"),
        ('{"proof": "ARITH_TAC"}\n', "line 1: needs 'problem' (with --suite) or 'goal' (with --system)"),
        ('{"proof": "ARITH_TAC", "goal": "T"}\n', "line 1: has 'goal' but no --system was given"),
        ('{"proof": "ARITH_TAC", "problem": "nope"}\n', "has no problem 'nope'"),
        ("\n\n", "no proofs to check"),
    ],
)
def test_batch_input_is_validated_before_checking(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, fragment: str
) -> None:
    batch = tmp_path / "proofs.jsonl"
    batch.write_text(content)
    code, out, err = run(capsys, "check", "--suite", "hol-light-core", "--batch", str(batch))
    assert code == 2
    assert out == ""
    one_line_error(err, fragment)


def test_suites_list_shows_bundled_suite(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "suites", "list")
    assert code == 0
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines() if line.strip()}
    assert rows["hol-light-core"] == ["hol-light", "50", "problems"]  # name, proof system, size
    assert rows["lean4-core"][0] == "lean4"
