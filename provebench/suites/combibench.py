"""Import CombiBench (Lean 4 + Mathlib combinatorics problems) into a provebench suite.

From the dataset JSONL (one record per problem: the whole Lean file with
``sorry``, the same file with the reference solution substituted, and the
metadata columns) or from a CombiBench checkout (``lean/CombiBench/*.lean``,
``with_solution/*_sol.lean``, ``metadata.csv``). A problem's statement is its
file without the ``import`` lines: the imports are the suite's header, which
a checker runs once, never the candidate's. Fill-in problems (an answer to
find, ``abbrev NAME_solution ... := sorry``) keep the reference answer and the
statement with it substituted, to judge answers against.

The statements are the dataset's: the suite is written outside the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provebench.core import inputs
from provebench.core.errors import UserError
from provebench.systems.lean.fill_in import solution_names

SUITE_NAME = "combibench"
CHECKER_IMAGE = "lean4-mathlib"
HEADER_IMPORTS = ("Mathlib",)
DEFAULT_TIMEOUT_S = 300.0  # a Mathlib check: elaboration of a competition proof can take minutes
_IMPORT = re.compile(r"^import\s+(\S+)\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_']+$")


@dataclass(frozen=True)
class Record:
    """One CombiBench problem as published."""

    name: str
    statement: str  # the whole Lean file, proof replaced by sorry
    with_solution: str  # the same, with a fill-in problem's reference answer substituted
    natural_language: str
    answer: str | None
    source: str
    tag: str
    where: str  # for error messages


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    out: Path
    problems: int
    by_kind: dict[str, int]
    by_category: dict[str, int]
    revision: str


def read_jsonl(path: Path) -> list[Record]:
    """The dataset file: one JSON object per line."""
    records = []
    for where, obj in inputs.read_jsonl(path, "dataset file"):
        if not isinstance(obj, dict):
            raise UserError(f"{where}: expected a JSON object")
        fields = {}
        for key in ("theorem_name", "formal_statement", "formal_statement_with_solution"):
            if not isinstance(obj.get(key), str) or not obj[key].strip():
                raise UserError(f"{where}: needs a string field {key!r}")
            fields[key] = obj[key]
        answer = obj.get("answer")
        records.append(
            Record(
                name=fields["theorem_name"],
                statement=fields["formal_statement"],
                with_solution=fields["formal_statement_with_solution"],
                natural_language=str(obj.get("natural_language") or ""),
                answer=str(answer) if answer not in (None, "") else None,
                source=str(obj.get("source") or ""),
                tag=str(obj.get("tag") or ""),
                where=where,
            )
        )
    if not records:
        raise UserError(f"{path}: no problems")
    return records


def read_checkout(root: Path) -> list[Record]:
    """A CombiBench checkout (or its ``lean/CombiBench`` folder)."""
    folder = root / "lean" / "CombiBench" if (root / "lean" / "CombiBench").is_dir() else root
    meta_path = folder / "metadata.csv"
    if not meta_path.is_file():
        raise UserError(f"{root}: not a CombiBench checkout (no lean/CombiBench/metadata.csv)")
    # Strict CSV: a quote left open is an error naming its line, not a field that swallows the rows after it.
    lines = list(inputs.parse_csv(inputs.read_text(meta_path, "metadata file"), str(meta_path)))
    header = lines[0][1] if lines else []
    if "theorem_name" not in header:
        raise UserError(f"{meta_path}: needs a theorem_name column")
    rows = [(n, dict(zip(header, fields, strict=False))) for n, fields in lines[1:]]
    records = []
    for n, row in rows:
        name = (row.get("theorem_name") or "").strip()
        where = f"{meta_path}: line {n}"
        if not _NAME.match(name):
            raise UserError(f"{where}: bad theorem_name {name!r}")
        statement = inputs.read_text(folder / f"{name}.lean", "Lean file")
        solution_path = folder / "with_solution" / f"{name}_sol.lean"
        answer = (row.get("answer") or "").strip() or None
        if answer is not None and not solution_path.is_file():
            raise UserError(f"{where}: {name} has an answer but no with_solution/{name}_sol.lean")
        with_solution = inputs.read_text(solution_path, "Lean file") if answer is not None else statement
        records.append(
            Record(
                name=name,
                statement=statement,
                with_solution=with_solution,
                natural_language=row.get("natural_language") or "",
                answer=answer,
                source=row.get("source") or "",
                tag=row.get("tag") or "",
                where=f"{folder / name}.lean",
            )
        )
    return records


def split_header(text: str, where: str) -> tuple[tuple[str, ...], str]:
    """The modules a Lean file imports (its leading ``import`` lines), and the rest of it."""
    lines = text.split("\n")
    imports, i = [], 0
    while i < len(lines) and (not lines[i].strip() or _IMPORT.match(lines[i])):
        if (m := _IMPORT.match(lines[i])) is not None:
            imports.append(m.group(1))
        i += 1
    body = "\n".join(lines[i:]).strip("\n") + "\n"
    if any(_IMPORT.match(line) for line in lines[i:]):
        raise UserError(f"{where}: an import after the header")
    return tuple(imports), body


def _entry(r: Record) -> dict[str, Any]:
    imports, statement = split_header(r.statement, r.where)
    if imports != HEADER_IMPORTS:
        raise UserError(f"{r.where}: imports {', '.join(imports) or 'nothing'}, not the suite's header (Mathlib)")
    if not theorem_names(r.name, statement):
        raise UserError(f"{r.where}: no `theorem {r.name}` (or {r.name}_1, ...) in the statement")
    if "sorry" not in statement:
        raise UserError(f"{r.where}: the statement has no `sorry` to fill")
    entry: dict[str, Any] = {
        "id": r.name,
        "statement": statement,
        "kind": "theorem",
        "category": r.tag or "uncategorized",
        "informal": r.natural_language,
    }
    if r.answer is not None:
        if not solution_names(r.name, statement):
            raise UserError(f"{r.where}: a fill-in problem without `abbrev {r.name}_solution`")
        _, with_answer = split_header(r.with_solution, r.where)
        entry |= {"kind": "fill-in", "answer": r.answer, "answer_statement": with_answer}
        slots = solution_names(r.name, statement)
        checks = {slot: t for slot in slots if (t := answer_check_template(statement, slot))}
        if checks:
            entry["answer_checks"] = checks
    return entry


_OPEN, _CLOSE = "([{⦃", ")]}⦄"


def _top_level_colon(text: str) -> int:
    """Index of the first ``:`` outside brackets that is not ``:=``, or -1."""
    depth = 0
    for i, c in enumerate(text):
        depth += c in _OPEN
        depth -= c in _CLOSE
        if c == ":" and depth == 0 and not text.startswith(":=", i):
            return i
    return -1


def _binder_groups(binders: str) -> list[str]:
    """The top-level bracketed groups of a binder list, as written."""
    groups, depth, start = [], 0, 0
    for i, c in enumerate(binders):
        if c in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                groups.append(binders[start : i + 1])
    return groups


def solution_signature(statement: str, slot: str) -> tuple[str, str] | None:
    """The binders and the type of an answer slot's ``abbrev``/``def``, as written."""
    m = re.search(rf"\b(?:abbrev|def)\s+{re.escape(slot)}(?![\w'])(?P<sig>.*?):=", statement, re.DOTALL)
    if m is None:
        return None
    sig = m.group("sig")
    colon = _top_level_colon(sig)
    if colon < 0:
        return None
    return sig[:colon].strip(), " ".join(sig[colon + 1 :].split())


def answer_check_template(statement: str, slot: str) -> str | None:
    """The trusted comparison of an answer with binders, or of a function or set type.

    Binders are bound in the example and passed by name, and the reference answer is elaborated at
    the slot's type (so ``fun n => ...`` and ``{x | ...}`` elaborate). None for a closed answer of a
    plain type, which the verifier's default comparison handles.
    """
    sig = solution_signature(statement, slot)
    if sig is None:
        return None
    binders, type_ = sig
    if not binders and "→" not in type_ and not re.match(r"(Set|Finset)\b", type_):
        return None
    names = []
    for group in _binder_groups(binders):
        if group[0] == "[":
            continue  # instance binders are found by type class resolution
        inner = group[1:-1]
        colon = _top_level_colon(inner)
        names += (inner[:colon] if colon >= 0 else inner).split()
    args = "".join(f" ({n} := {n})" for n in names)
    head = f"example {binders} :" if binders else "example :"
    return f"{head} ($solution{args}) $op (($answer : {type_})) := by $tactics"


def theorem_names(problem: str, statement: str) -> list[str]:
    """The theorems (or lemmas) a statement asks for: ``NAME``, or ``NAME_1``, ``NAME_2``, ... in parts."""
    name = rf"({re.escape(problem)}(?:_\d+)?)(?![\w'])"
    found = re.findall(rf"^\s*(?:theorem|lemma)\s+{name}", statement, re.MULTILINE)
    return list(dict.fromkeys(found))


def _provenance(path: Path) -> str:
    """PROVENANCE.md's text, read as a bounded regular file (undecodable bytes replaced: only a pattern is sought)."""
    return inputs.read_bytes(path, "provenance file").decode("utf-8", errors="replace")


def _revision(src: Path) -> str:
    """The CombiBench commit: the checkout's HEAD, or the one PROVENANCE.md beside the dataset names."""
    folder = src if src.is_dir() else src.parent
    if (folder / ".git").exists():  # a checkout itself, not a folder inside some other repository
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    provenance = folder / "PROVENANCE.md"
    if provenance.is_file():
        m = re.search(r"commit\s+([0-9a-f]{7,40})", _provenance(provenance))
        if m:
            return m.group(1)
    return "unknown"


def _toolchain(src: Path) -> dict[str, str]:
    """Lean and Mathlib versions from the checkout's lean-toolchain and lake manifest, where present."""
    folder = src if src.is_dir() else src.parent
    out: dict[str, str] = {}
    for base in (folder / "lean", folder):
        toolchain = base / "lean-toolchain"
        if toolchain.is_file() and "lean_toolchain" not in out:
            out["lean_toolchain"] = inputs.read_text(toolchain, "lean-toolchain file").strip()
        manifest = base / "lake-manifest.json"
        if manifest.is_file() and "mathlib_rev" not in out:
            data = inputs.parse_json(inputs.read_text(manifest, "lake manifest"), str(manifest))  # depth bounded
            if not isinstance(data, dict):
                raise UserError(f"{manifest}: not a lake manifest")
            packages = data.get("packages", [])
            for package in packages if isinstance(packages, list) else []:
                if isinstance(package, dict) and package.get("name") == "mathlib":
                    out["mathlib_rev"] = str(package.get("rev", ""))
                    if package.get("inputRev"):
                        out["mathlib_tag"] = str(package["inputRev"])
    provenance = folder / "PROVENANCE.md"
    if "lean_toolchain" not in out and provenance.is_file():
        m = re.search(r"leanprover/lean4:v[0-9][0-9A-Za-z.\-]*", _provenance(provenance))
        if m:
            out["lean_toolchain"] = m.group(0)
    return out


def import_combibench(src: Path, out: Path) -> ImportReport:
    """Write the suite from a dataset JSONL file (or a folder holding ``combibench.jsonl``) or a checkout."""
    if src.is_file():
        records = read_jsonl(src)
    elif (src / "combibench.jsonl").is_file():
        records = read_jsonl(src / "combibench.jsonl")
    elif src.is_dir():
        records = read_checkout(src)
    else:
        raise UserError(f"{src}: no such file or folder")
    seen: set[str] = set()
    entries = []
    for r in records:
        if not _NAME.match(r.name):
            raise UserError(f"{r.where}: bad theorem_name {r.name!r}")
        if r.name in seen:
            raise UserError(f"{r.where}: {r.name} appears twice")
        seen.add(r.name)
        entries.append(_entry(r))
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: already exists and is not empty; choose another --out or remove it")
    revision, toolchain = _revision(src), _toolchain(src)  # read before anything is written: no half suite
    out.mkdir(parents=True, exist_ok=True)
    with (out / "problems.jsonl").open("w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    manifest = {
        "name": SUITE_NAME,
        "system": "lean4",
        "version": revision,
        "description": "CombiBench: combinatorics problems in Lean 4 + Mathlib (theorems and fill-in answers), "
        "imported by provebench.",
        "checker_image": CHECKER_IMAGE,
        "default_timeout_s": DEFAULT_TIMEOUT_S,
        "context": "\n".join(f"import {m}" for m in HEADER_IMPORTS),
        "problems_file": "problems.jsonl",
        "source": str(src.resolve()),
        "metadata": {"combibench_commit": revision, **toolchain},
    }
    (out / "suite.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return ImportReport(
        out=out,
        problems=len(entries),
        by_kind=dict(Counter(e["kind"] for e in entries)),
        by_category=dict(Counter(e["category"] for e in entries)),
        revision=revision,
    )
