"""The replay prover: answers from a file, so externally generated proofs can be checked at scale.

Formats: CSV with a header holding at least ``problem_id`` and ``answer`` (other
columns, such as s2n-bignum-bench's ``category`` and ``query``, are ignored; a
``.zip`` holding one such CSV is read as the leaderboard's submissions are), or
JSONL with ``problem`` (or ``problem_id``) and ``answer`` (or ``proof``) per
line. Several answers for one problem are its samples, in file order; a sample
with no answer, or a blank one, is a FAIL ``no-proof`` that costs no check.

``JournalReplay`` answers from a finished run's journal instead, attempt by attempt, repair rounds
included: what ``provebench recheck`` checks again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from provebench.core.errors import UserError
from provebench.core.inputs import MAX_INPUT_BYTES, csv_from_zip, parse_csv, parse_json, read_bytes
from provebench.core.journal import AttemptRecord
from provebench.core.model import Problem, Reason
from provebench.core.texts import decode_text
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, validate_settings

_MAX_FILE_BYTES = MAX_INPUT_BYTES


class ReplaySettings(BaseModel):
    """Settings of the replay prover."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answers: Path = Field(description="the answers file: CSV (problem_id, answer), a .zip of one, or JSONL")


def _read_text(path: Path) -> str:
    data = read_bytes(path, "answers file", _MAX_FILE_BYTES)  # a regular file, bounded: not /dev/zero, not a FIFO
    if path.suffix.lower() == ".zip":  # a leaderboard's submission: one CSV, zipped
        data = csv_from_zip(path, data, _MAX_FILE_BYTES)
    return decode_text(data, str(path), "an answers file").removeprefix("\ufeff")  # spreadsheets write a BOM


def _read_csv(path: Path, text: str) -> list[tuple[str, str]]:
    # Strict CSV: a stray quote is an error naming its line, not a field that swallows the answers after it.
    records = parse_csv(text, str(path))
    _, first = next(records, (0, []))
    header = [h.strip() for h in first]
    if "problem_id" not in header or "answer" not in header:
        found = ", ".join(repr(h[:40]) for h in header[:8])  # a header of junk may be long: show a little
        raise UserError(f"{path}: a CSV answers file needs the columns problem_id and answer (found: {found})")
    at_id, at_answer = header.index("problem_id"), header.index("answer")
    rows = []
    for line, fields in records:
        if len(fields) > len(header):
            raise UserError(f"{path}: line {line}: more fields than the header has")
        if len(fields) < len(header):
            raise UserError(f"{path}: line {line}: fewer fields than the header has")
        rows.append((fields[at_id].strip(), fields[at_answer]))
    return rows


def _read_jsonl(path: Path, text: str) -> list[tuple[str, str]]:
    rows = []
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines: JSON strings may hold U+2028
        if not line.strip():
            continue
        obj = parse_json(line, f"{path}: line {n}")  # nesting bounded: one line, not a RecursionError
        pid = obj.get("problem", obj.get("problem_id")) if isinstance(obj, dict) else None
        answer = obj.get("answer", obj.get("proof")) if isinstance(obj, dict) else None
        if not isinstance(pid, str) or not isinstance(answer, str):
            raise UserError(f"{path}: line {n}: needs string fields 'problem' and 'answer'")
        rows.append((pid, answer))
    return rows


def load_answers(path: Path) -> dict[str, list[str]]:
    """Answers per problem id, in file order; one-line errors for bad files."""
    text = _read_text(path)
    rows = _read_jsonl(path, text) if path.suffix.lower() in (".jsonl", ".ndjson") else _read_csv(path, text)
    if not rows:
        raise UserError(f"{path}: no answers")
    answers: dict[str, list[str]] = defaultdict(list)
    for pid, answer in rows:
        answers[pid].append(answer)
    return dict(answers)


class ReplayProver(Prover):
    """Replays the answers of a file, sample by sample."""

    name = "replay"
    can_repair = False

    def __init__(self, settings: ReplaySettings) -> None:
        self.settings = settings
        self._answers: dict[str, list[str]] | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ReplayProver:
        """Validate the settings mapping of a run config."""
        return cls(validate_settings(ReplaySettings, cls.name, settings))

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """Load the file; answers for ids the suite does not have are an error."""
        if self._answers is not None:
            return
        answers = load_answers(self.settings.answers)
        known = {p.id for p in suite_problems}
        unknown = sorted(set(answers) - known)
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:3]) + (
                f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            )
            raise UserError(f"{self.settings.answers}: answers for problems the suite does not have: {shown}")
        self._answers = answers

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """The ``sample``-th answer for the problem, or no proof."""
        if self._answers is None:
            raise RuntimeError("replay prover used before prepare()")
        given = self._answers.get(problem.id, [])
        if history or sample >= len(given) or not given[sample].strip():  # a blank answer is no answer
            return ProverOutput(proof=None, raw_reply=None)
        return ProverOutput(proof=given[sample], raw_reply=None)

    def describe(self) -> dict[str, Any]:
        """The answers file and how many answers it holds."""
        count = sum(len(v) for v in (self._answers or {}).values())
        return {"name": self.name, "answers": str(self.settings.answers), "count": count}

    def max_samples(self) -> int:
        """The most answers any problem has."""
        return max((len(v) for v in (self._answers or {}).values()), default=0)


AnswerKey = tuple[str, int, int]  # problem, sample, round


class RecordedAnswers(Prover):
    """Answers each attempt with an answer given before, by problem, sample and round; it asks no API.

    Known by the name of the prover whose answers these are (a recheck's run, an imported Inspect log's model).
    """

    can_repair = True  # it replays the repair rounds that were made; it makes no other

    def __init__(
        self,
        name: str,
        answers: Mapping[AnswerKey, ProverOutput],
        described: dict[str, Any],
        templates: Mapping[str, str],
    ) -> None:
        self.name = name
        self._answers = dict(answers)
        self._described = described
        self._templates = dict(templates)

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """The answer for this problem, sample and round (the round is ``len(history)``)."""
        out = self._answers.get((problem.id, sample, len(history)))
        if out is None:  # only the attempts that were made are asked for
            raise RuntimeError(f"no answer was recorded for {problem.id} sample {sample} round {len(history)}")
        return out

    def describe(self) -> dict[str, Any]:
        """The prover as the answers' source describes it, and which source."""
        return self._described

    def template_hashes(self) -> dict[str, str]:
        """The hashes of the templates the answers' prompts were rendered from."""
        return self._templates


def _journalled(record: AttemptRecord) -> ProverOutput:
    a, v = record.prover, record.verdict
    refused = v.reason is Reason.PROVER_ERROR and a.proof is None  # the API refused: said again, not checked
    return ProverOutput(
        proof=a.proof,
        raw_reply=a.raw_reply,
        error=(v.messages[0] if v.messages else "the prover failed") if refused else None,
        reasoning=a.reasoning,
        tokens_in=a.tokens_in,
        tokens_out=a.tokens_out,
        tokens_reasoning=a.tokens_reasoning,
        cost=a.cost,
        finish_reason=a.finish_reason,
        seconds=a.seconds,
        api_retries=a.api_retries,
        cached=a.cached,
        trajectory=a.trajectory,
    )


class JournalReplay(RecordedAnswers):
    """Answers each attempt with the prover's answer a run's journal holds for it, as it was (a recheck)."""

    def __init__(
        self,
        name: str,
        attempts: Mapping[AnswerKey, AttemptRecord],
        described: dict[str, Any],
        templates: Mapping[str, str],
    ) -> None:
        super().__init__(name, {k: _journalled(r) for k, r in attempts.items()}, described, templates)
