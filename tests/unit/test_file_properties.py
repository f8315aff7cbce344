"""Property tests (Hypothesis) of the readers of users' files: fed generated junk, each returns a value or
raises the one-line ``UserError``, nothing else; fed what a spreadsheet or a JSON writer produces, each reads
it back exactly (issue 30).

Each example is a real file: one path under ``tmp_path`` written over per example (hence the suppressed
function-scoped-fixture health check). Example counts are set per test so the whole file stays quick.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provebench.errors import UserError
from provebench.provers.replay import load_answers


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
        return
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
