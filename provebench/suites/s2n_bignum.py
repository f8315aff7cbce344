"""Import s2n-bignum-bench into a provebench suite.

From the benchmark's published artefacts: ``problems.json`` (id -> category,
query, the theorem's JSON record, ``inlined_locations``) and the CHEAT_TAC
templates under ``ml_files/<arch>/``. Each problem's context is its first
template up to the line before the theorem's ``let``, found explicitly (the
benchmark's own cut relies on a blank line before each theorem). The
templates' ``open Hol_lib;; open Hol_loader;;`` lines are blanked: Debian's
HOL Light is the REPL build, which has no such modules.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provebench.errors import UserError

SUITE_NAME = "s2n-bignum"
CHECKER_IMAGE = "hol-light-s2n"
CATEGORIES = (
    "functional_correctness_arm",
    "functional_correctness_x86",
    "program_state",
    "bit_vector",
    "generic",
)
DEFAULT_TIMEOUT_S = 7200.0
S2N_ROOT_IN_IMAGE = "/opt/s2n-bignum"  # the benchmark's per-category default (timeouts.json)
_NATIVE_ONLY = re.compile(r"^(\s*open\s+Hol_(lib|loader)\s*;;)+\s*$")


def timeout_for(prove_seconds: float) -> int:
    """The benchmark's timeout rule: max(120, floor(2p)) below 120 s of reference time, else min(10800, floor(5p))."""
    if prove_seconds < 120:
        return max(120, math.floor(2 * prove_seconds))
    return min(10800, math.floor(5 * prove_seconds))


@dataclass(frozen=True)
class TimeoutEntry:
    """One entry of the benchmark's timeout map."""

    timeout_s: int
    prove_seconds: float | None


def load_timeout_map(path: Path) -> dict[str, TimeoutEntry]:
    """``timeout-map.json``: a list of {problem_id, prove_secs, timeout_sec}; one-line errors."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: timeout map not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a JSON timeout map: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, list):
        raise UserError(f"{path}: a timeout map is a list of {{problem_id, prove_secs, timeout_sec}}")
    out = {}
    for i, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("problem_id"), str):
            raise UserError(f"{path}: entry {i}: needs a string problem_id")
        timeout, prove = entry.get("timeout_sec"), entry.get("prove_secs")
        if prove is not None and (not isinstance(prove, (int, float)) or prove < 0):
            raise UserError(f"{path}: entry {i} ({entry['problem_id']}): prove_secs must be a non-negative number")
        if timeout is None and prove is not None:
            timeout = timeout_for(float(prove))
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise UserError(f"{path}: entry {i} ({entry['problem_id']}): timeout_sec must be a positive number")
        out[entry["problem_id"]] = TimeoutEntry(timeout_s=int(timeout), prove_seconds=prove)
    return out


def goal_term(query: str) -> str | None:
    """The term between the first and last backquote of a query, or None (a goal computed at run time)."""
    first, last = query.find("`"), query.rfind("`")
    if first == -1 or first == last:
        return None
    term = query[first + 1 : last].strip()
    return term or None


def find_theorem_line(lines: list[str], name: str, near: int) -> int | None:
    """The 1-based line where ``let NAME =`` starts, searched close to ``near``."""
    pattern = re.compile(rf"^\s*let\s+{re.escape(name)}\s*=")
    for offset in (0, 1, 2, -1, 3, 4, 5, -2, -3):
        line = near + offset
        if 1 <= line <= len(lines) and pattern.match(lines[line - 1]):
            return line
    return None


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    out: Path
    problems: int
    by_category: dict[str, int]
    templates: int
    timeouts_from_map: int


def _read_problems_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found (expected the benchmark's problems.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"{path}: expected a non-empty mapping from problem id to problem")
    return data


def _template_source(src: Path, location: Any, where: str) -> tuple[Path, str, int]:
    """The template file of an ``inlined_locations`` entry, its path under ml_files, and the line."""
    if not (isinstance(location, list) and len(location) == 2 and isinstance(location[1], int)):
        raise UserError(f"{where}: inlined_locations entries are [template path, line]")
    given = Path(str(location[0]))
    parts = given.parts
    # The recorded path is wherever the benchmark was built; the template is ml_files/<arch>/<file>.
    rel = Path(*parts[parts.index("ml_files") + 1 :]) if "ml_files" in parts else Path(*parts[-2:])
    path = src / "ml_files" / rel
    if not path.is_file():
        raise UserError(f"{where}: template {rel} not found under {src / 'ml_files'}")
    return path, rel.as_posix(), location[1]


def import_artefacts(
    src: Path, out: Path, timeout_map: Path | None = None, metadata: dict[str, str] | None = None
) -> ImportReport:
    """Write a suite from the benchmark's ``problems.json`` and ``ml_files/`` under ``src``."""
    problems = _read_problems_json(src / "problems.json")
    timeouts = load_timeout_map(timeout_map) if timeout_map else {}
    template_lines: dict[str, list[str]] = {}
    entries: list[dict[str, Any]] = []
    from_map = 0
    for pid, item in problems.items():
        where = f"{src / 'problems.json'}: problem {pid}"
        if not isinstance(item, dict):
            raise UserError(f"{where}: expected a mapping")
        category, query, record = item.get("category"), item.get("query"), item.get("json")
        if category not in CATEGORIES:
            raise UserError(f"{where}: unknown category {category!r}")
        if not isinstance(query, str) or (statement := goal_term(query)) is None:
            raise UserError(f"{where}: the query is not a backquoted HOL Light term")
        if not isinstance(record, dict) or not isinstance(record.get("theorem_name"), str):
            raise UserError(f"{where}: json.theorem_name is missing")
        locations = item.get("inlined_locations")
        if not isinstance(locations, list) or not locations:
            raise UserError(f"{where}: inlined_locations is missing")
        path, rel, near = _template_source(src, locations[0], where)
        if rel not in template_lines:
            text = path.read_text(encoding="utf-8")
            template_lines[rel] = ["" if _NATIVE_ONLY.match(line) else line for line in text.split("\n")]
        line = find_theorem_line(template_lines[rel], record["theorem_name"], near)
        if line is None:
            raise UserError(f"{where}: no `let {record['theorem_name']} =` near line {near} of {rel}")
        entry: dict[str, Any] = {
            "id": pid,
            "statement": statement,
            "category": category,
            "timeout_s": DEFAULT_TIMEOUT_S,
            "template": f"templates/{rel}",
            "template_line": line,
        }
        if pid in timeouts:
            entry["timeout_s"] = float(timeouts[pid].timeout_s)
            from_map += 1
        entries.append(entry)
    _write_suite(out, entries, template_lines, src, metadata or {})
    return ImportReport(
        out=out,
        problems=len(entries),
        by_category=dict(Counter(e["category"] for e in entries)),
        templates=len(template_lines),
        timeouts_from_map=from_map,
    )


def _write_suite(
    out: Path,
    entries: list[dict[str, Any]],
    templates: dict[str, list[str]],
    src: Path,
    metadata: dict[str, str],
    template_includes: bool = False,
) -> None:
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: already exists and is not empty; choose another --out or remove it")
    for rel, lines in templates.items():
        dest = out / "templates" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines), encoding="utf-8")
    with (out / "problems.jsonl").open("w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    manifest = {
        "name": SUITE_NAME,
        "system": "hol-light",
        "version": metadata.get("s2n_bignum_commit", "unknown"),
        "description": "s2n-bignum-bench: HOL Light goals from AWS s2n-bignum's verified cryptographic proofs, "
        f"imported by provebench from {'an s2n-bignum checkout' if template_includes else 'published artefacts'}.",
        "checker_image": f"{CHECKER_IMAGE}@{metadata['s2n_bignum_commit']}"
        if metadata.get("s2n_bignum_commit", "unknown") != "unknown"
        else CHECKER_IMAGE,
        "default_timeout_s": DEFAULT_TIMEOUT_S,
        # s2n-bignum's proofs read object files by paths relative to its root.
        "context": f'Sys.chdir "{S2N_ROOT_IN_IMAGE}";;',
        "problems_file": "problems.jsonl",
        "source": str(src.resolve()),
        "metadata": metadata,
        "template_includes": template_includes,
    }
    (out / "suite.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


# ----- from an s2n-bignum checkout ------------------------------------------

_STATE_WORDS = ("read", "write", ":>", "nonoverlapping", "nonoverlapping_modulo", "contained", "contained_modulo")
_BITVECTOR_WORDS = ("word_*", "word", "val")


def _mentions(words: tuple[str, ...], goal: str) -> bool:
    """The benchmark's keyword test: a word next to a space or a parenthesis (``x*``: a prefix)."""
    for w in words:
        if w.endswith("*"):
            if f" {w[:-1]}" in goal:
                return True
        elif f" {w}" in goal or f"{w} " in goal or f"({w}" in goal or f"{w})" in goal:
            return True
    return False


def categorize(name: str, goal: str, arch: str) -> tuple[str | None, str]:
    """(category, "") for a kept theorem, or (None, why) for one the benchmark leaves out."""
    quoted = goal.strip().strip("()").strip()
    if goal_term(goal) is None or not (quoted.startswith("`") and quoted.endswith("`") and quoted.count("`") == 2):
        return None, "the goal is computed at run time"
    if "_EQUIV" in name or "SUBROUTINE_SAFE" in name:
        return None, "not about functional correctness"
    if "SUBROUTINE_CORRECT" in name:
        return None, "a subroutine wrapper of a _CORRECT theorem"
    padded = " " + goal[goal.find("`") : goal.rfind("`") + 1].replace("\n", " ") + " "
    if "_CORRECT" in name and _mentions(("ensures",), padded) and arch in ("arm", "x86"):
        return f"functional_correctness_{arch}", ""
    if _mentions(_STATE_WORDS, padded):
        return "program_state", ""
    if _mentions(_BITVECTOR_WORDS, padded):
        return "bit_vector", ""
    return "generic", ""


def _base_of(item: tuple[str, Any, str, int]) -> str:
    rel, theorem = item[0], item[1]
    return f"{rel.split('/')[0]}.{Path(rel).stem}.{theorem.name}"


def _git_commit(checkout: Path) -> str | None:
    import subprocess

    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


@dataclass(frozen=True)
class SourceImport:
    """What an import from an s2n-bignum checkout found."""

    report: ImportReport
    dropped: dict[str, int]
    skipped_files: tuple[str, ...]


def import_source(
    checkout: Path,
    out: Path,
    timeout_map: Path | None = None,
    arches: tuple[str, ...] = ("arm", "x86"),
    progress: Callable[[str], None] = lambda _line: None,
    functions: tuple[str, ...] = (),
) -> SourceImport:
    """Write a suite from an s2n-bignum checkout: every top-level theorem of every proof file.

    Each top-level file (a proof file no other file includes) is a template:
    its includes of s2n-bignum files are expanded as HOL Light loads them,
    with every proof admitted; a theorem's context is that stream up to the
    theorem, in the first template (by path) that reaches it. Ids follow the
    benchmark: ``{arch}.{file}.{THEOREM}``, ``.N`` when a file proves two
    theorems of one name.
    """
    from provebench.suites.hol_source import SourceFile, TopTheorem, _scan_file, inline

    if not (checkout / "common").is_dir() or not any((checkout / a / "proofs").is_dir() for a in arches):
        raise UserError(f"{checkout}: not an s2n-bignum checkout (no common/ and <arch>/proofs/)")
    timeouts = load_timeout_map(timeout_map) if timeout_map else {}
    if functions:
        wanted = [
            f"{a}/proofs/{f}.ml" for a in arches for f in functions if (checkout / a / "proofs" / f"{f}.ml").is_file()
        ]
        if not wanted:
            raise UserError(f"{checkout}: no proof file for {', '.join(functions)} under {', '.join(arches)}")
        files = sorted({rel for w in wanted for rel, _line in inline(checkout, w).origins})
    else:
        files = sorted(
            p.relative_to(checkout).as_posix()
            for d in ("common", *(f"{a}/proofs" for a in arches))
            if (checkout / d).is_dir()
            for p in (checkout / d).rglob("*.ml")
        )
    scanned: dict[str, SourceFile] = {}
    skipped: list[str] = []
    for i, rel in enumerate(files, 1):
        if i % 50 == 0:
            progress(f"read {i}/{len(files)} files")
        try:
            scanned[rel] = _scan_file(checkout / rel)
        except UserError as exc:
            skipped.append(f"{rel}: {exc}")
    included = {inc.path for s in scanned.values() for inc in s.includes}
    # A template is the proof file of an assembly function (as the benchmark's build lists them):
    # {arch}/proofs/NAME.ml where some {arch}/**/NAME.S exists and no other file includes it.
    assembled = {(a, p.stem) for a in arches if (checkout / a).is_dir() for p in (checkout / a).rglob("*.S")}
    roots = [
        rel
        for rel in scanned
        if rel.split("/")[0] in arches
        and rel.split("/")[1] == "proofs"
        and (rel.split("/")[0], Path(rel).stem) in assembled
        and rel not in included
        and (not functions or Path(rel).stem in functions)
    ]
    at_line: dict[str, dict[int, list[TopTheorem]]] = {}
    for rel, source in scanned.items():
        for th in source.theorems:
            at_line.setdefault(rel, {}).setdefault(th.line, []).append(th)
    # Every theorem once, at its first place in the first template (by path) that loads it.
    found: list[tuple[str, TopTheorem, str, int]] = []  # (origin file, theorem, template, line in template)
    seen_origin: set[tuple[str, int, str]] = set()
    for root in roots:
        try:
            stream = inline(checkout, root)
        except UserError as exc:
            skipped.append(f"{root}: {exc}")
            continue
        for line_no, (rel, line) in enumerate(stream.origins, 1):
            for th in at_line.get(rel, {}).get(line, []):
                if (rel, line, th.name) not in seen_origin:
                    seen_origin.add((rel, line, th.name))
                    found.append((rel, th, root, line_no))
    # One problem per goal text (the benchmark's cross-file rule). Which copy it keeps depends on
    # the order its build listed files in; with the benchmark's timeout map, the copy it kept wins.
    in_map = {re.sub(r"\.\d+$", "", k) for k in timeouts}  # ids without their .N
    keep: dict[str, int] = {}
    for i, (_rel, th, _root, _line) in enumerate(found):
        query = " ".join(th.goal.split())
        if query not in keep or (_base_of(found[i]) in in_map and _base_of(found[keep[query]]) not in in_map):
            keep[query] = i
    kept = sorted(keep.values())
    names: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    for i in kept:
        rel, theorem, root, line_no = found[i]
        arch = rel.split("/")[0]
        base = _base_of(found[i])
        count = names.get(base, 0)
        names[base] = count + 1
        if count == 1:  # a second theorem of this name in this file: the first becomes .0
            for e in entries:
                if e["id"] == base:
                    e["id"] = f"{base}.0"
        pid = base if count == 0 else f"{base}.{count}"
        category, why = categorize(theorem.name, theorem.goal, arch)
        if category is None:
            dropped[why] += 1
            continue
        entries.append(
            {
                "id": pid,
                "statement": goal_term(theorem.goal),
                "category": category,
                "timeout_s": DEFAULT_TIMEOUT_S,
                "reference_proof": theorem.tactic(scanned[rel].text),
                "template": f"templates/{root}",
                "template_line": line_no,
            }
        )
    if not entries:
        raise UserError(f"{checkout}: no top-level theorems found")
    for e in entries:  # after naming: an id may have gained its .0 late
        if e["id"] in timeouts:
            e["timeout_s"] = float(timeouts[e["id"]].timeout_s)
    metadata = {"s2n_bignum_commit": _git_commit(checkout) or "unknown", "imported_from": "source"}
    admitted = {rel: s.admitted().split("\n") for rel, s in scanned.items()}
    _write_suite(out, entries, admitted, checkout, metadata, template_includes=True)
    report = ImportReport(
        out=out,
        problems=len(entries),
        by_category=dict(Counter(e["category"] for e in entries)),
        templates=len(roots),
        timeouts_from_map=sum(1 for e in entries if e["id"] in timeouts),
    )
    return SourceImport(report=report, dropped=dict(dropped), skipped_files=tuple(skipped))
