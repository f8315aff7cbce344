"""Import s2n-bignum-bench into a provebench suite.

From the benchmark's published artefacts: ``problems.json`` (id -> category,
query, the theorem's JSON record, ``inlined_locations``) and the CHEAT_TAC
templates under ``ml_files/<arch>/``. Each problem's context is its first
template up to the line before the theorem's ``let``, found explicitly (the
benchmark's own cut relies on a blank line before each theorem). The
templates' ``open Hol_lib;; open Hol_loader;;`` lines are blanked: Debian's
HOL Light is the REPL build, which has no such modules. The benchmark's prompt
file, where the source has it, is copied into the suite's ``prompts/`` as it is.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from provebench.containers import HOL_LIGHT_PIN
from provebench.core import inputs
from provebench.core.errors import UserError
from provebench.suites.folder import PROMPTS_DIR, read_prompt_bytes

SUITE_NAME = "s2n-bignum"
CHECKER_IMAGE = "hol-light-s2n"
CATEGORIES = (
    "functional_correctness_arm",
    "functional_correctness_x86",
    "program_state",
    "bit_vector",
    "generic",
)
# How the benchmark's leaderboard lays out results: its columns, and its verdict names for provebench's (its
# harness says OK, FAIL for a tactic's Failure, ERROR for any other exception or an answer that does not
# compile, TIMEOUT, and CHEATING for a changed axiom list).
LAYOUT = {
    "name": "s2n-bignum-bench",
    "columns": [
        ["functional_correctness_arm", "ARM FC"],
        ["functional_correctness_x86", "x86 FC"],
        ["program_state", "Prog State"],
        ["bit_vector", "Bit Vector"],
        ["generic", "Generic"],
    ],
    "verdicts": {
        "PASS": "OK",
        "FAIL": "ERROR",
        "FAIL/tactic-failed": "FAIL",
        "FAIL/unsolved-goals": "FAIL",
        "TIMEOUT": "TIMEOUT",
        "CHEATING": "CHEATING",
        "ERROR": "ERROR",
    },
}
# The benchmark's per-category defaults (its timeouts.json, the same since March 2026), for problems its timeout
# map does not list: it takes the map's timeout, else the category's.
CATEGORY_TIMEOUTS_S = {c: 7200.0 for c in CATEGORIES}
DEFAULT_TIMEOUT_S = max(CATEGORY_TIMEOUTS_S.values())  # the suite's default, for a category it does not know
S2N_ROOT_IN_IMAGE = "/opt/s2n-bignum"
# One check's memory limit: s2n-bignum's symbolic simulation of long programs needs GBs.
MEMORY_MB = 6144
# Beside a check, a checker holds its chain of walkers, each with its own copy of the pages its garbage
# collector rewrote. Measured here: toplevel, base.ml, architecture and proof-file walkers with 0.2, 0.4, 0.7
# and 1.7 GB of private memory; under x86 bignum_inv_p256, where a walker waits at a point where another
# template parts, 0.2, 0.4, 1.0, 2.8 and 3.3 GB. So a checker container needs this much above a check's limit.
CONTEXT_MEMORY_MB = 8192
# The benchmark's timeouts are 2-5 times its native build's reference proof times; provebench checks in
# HOL Light's bytecode toplevel, where the same proofs took 3.3-3.9 times as long on an idle machine here and
# 3.9-5.2 times the CPU time on a busy one (benchmarks/s2n_timeout_scale.py): without a scale, reference proofs
# time out. At 4, reference proofs pass while the ratio stays under 8 (timeouts are at least twice their times).
TIMEOUT_SCALE = 4.0
# The benchmark's prompt files, at the root of its repository (one in all its history): a suite keeps them as
# they are, so that the s2n-bignum-bench preset sends the benchmark's own prompt (provebench holds none of it).
BENCH_PROMPTS = ("prompt-basic.txt",)
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


def _read_json(path: Path, missing: str, bad: str) -> Any:
    if not path.exists():
        raise UserError(f"{path}: {missing}")
    # Bounded, regular files only, nesting limited: a one-line error (prefixed with what the file should be).
    return inputs.parse_json(inputs.read_bytes(path, "JSON file"), f"{path}: {bad}")


def _finite_number(value: object) -> TypeGuard[float]:
    # JSON's 1e400 is inf, and Python's json takes Infinity and NaN: none of them is a limit.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_timeout_map(path: Path) -> dict[str, TimeoutEntry]:
    """``timeout-map.json``: a list of {problem_id, prove_secs, timeout_sec}; one-line errors."""
    data = _read_json(path, "timeout map not found", "not a JSON timeout map")
    if not isinstance(data, list):
        raise UserError(f"{path}: a timeout map is a list of {{problem_id, prove_secs, timeout_sec}}")
    out = {}
    for i, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("problem_id"), str):
            raise UserError(f"{path}: entry {i}: needs a string problem_id")
        timeout, prove = entry.get("timeout_sec"), entry.get("prove_secs")
        if prove is not None and (not _finite_number(prove) or not 0 <= prove <= inputs.MAX_TIMEOUT_S):
            raise UserError(
                f"{path}: entry {i} ({entry['problem_id']}): prove_secs must be a non-negative number,"
                f" at most {inputs.MAX_TIMEOUT_S:.0f}"
            )
        if timeout is None and prove is not None:
            timeout = timeout_for(float(prove))
        if not _finite_number(timeout) or not 0 < timeout <= inputs.MAX_TIMEOUT_S:
            raise UserError(
                f"{path}: entry {i} ({entry['problem_id']}): timeout_sec must be a positive number,"
                f" at most {inputs.MAX_TIMEOUT_S:.0f}"
            )
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
    prompts: tuple[str, ...] = ()  # the benchmark's prompt files the suite keeps


def _read_problems_json(path: Path) -> dict[str, Any]:
    data = _read_json(path, "not found (expected the benchmark's problems.json)", "not valid JSON")
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
    src: Path,
    out: Path,
    timeout_map: Path | None = None,
    metadata: dict[str, str] | None = None,
    timeout_scale: float = TIMEOUT_SCALE,
    checker: str | None = None,
) -> ImportReport:
    """Write a suite from the benchmark's ``problems.json`` and ``ml_files/`` under ``src`` (and its prompt files)."""
    problems = _read_problems_json(src / "problems.json")
    # The artefacts are the benchmark's checkout after its own setup: its prompt files sit beside problems.json.
    prompts = {name: read_prompt_bytes(src / name) for name in BENCH_PROMPTS if (src / name).exists()}
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
        if not isinstance(query, str) or goal_term(query) is None:
            raise UserError(f"{where}: the query holds no backquoted HOL Light term")
        if not isinstance(record, dict) or not isinstance(record.get("theorem_name"), str):
            raise UserError(f"{where}: json.theorem_name is missing")
        locations = item.get("inlined_locations")
        if not isinstance(locations, list) or not locations:
            raise UserError(f"{where}: inlined_locations is missing")
        path, rel, near = _template_source(src, locations[0], where)
        if rel not in template_lines:
            text = inputs.read_text(path, "template file")
            template_lines[rel] = ["" if _NATIVE_ONLY.match(line) else line for line in text.split("\n")]
        line = find_theorem_line(template_lines[rel], record["theorem_name"], near)
        if line is None:
            raise UserError(f"{where}: no `let {record['theorem_name']} =` near line {near} of {rel}")
        entry: dict[str, Any] = {
            "id": pid,
            **statement_fields(query),
            "category": category,
            "timeout_s": CATEGORY_TIMEOUTS_S[category],
            "template": f"templates/{rel}",
            "template_line": line,
        }
        if pid in timeouts:
            entry["timeout_s"] = float(timeouts[pid].timeout_s)
            from_map += 1
        entries.append(entry)
    write_suite(
        out, entries, template_lines, src, metadata or {}, timeout_scale=timeout_scale, checker=checker, prompts=prompts
    )
    return ImportReport(
        out=out,
        problems=len(entries),
        by_category=dict(Counter(e["category"] for e in entries)),
        templates=len(template_lines),
        timeouts_from_map=from_map,
        prompts=tuple(prompts),
    )


def write_suite(
    out: Path,
    entries: list[dict[str, Any]],
    templates: dict[str, list[str]],
    src: Path,
    metadata: dict[str, str],
    template_includes: bool = False,
    timeout_scale: float = TIMEOUT_SCALE,
    checker: str | None = None,
    prompts: dict[str, bytes] | None = None,
) -> None:
    """Write an imported suite folder: templates, the benchmark's prompt files, problems.jsonl, suite.yaml."""
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: already exists and is not empty; choose another --out or remove it")
    for rel, lines in templates.items():
        dest = out / "templates" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines), encoding="utf-8")
    for name, data in (prompts or {}).items():
        (out / PROMPTS_DIR).mkdir(parents=True, exist_ok=True)
        (out / PROMPTS_DIR / name).write_bytes(data)  # byte for byte: the prompt a run sends is the benchmark's
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
        "memory_mb": MEMORY_MB,
        "context_memory_mb": CONTEXT_MEMORY_MB,
        "timeout_scale": timeout_scale,
        # s2n-bignum's proofs read object files by paths relative to its root.
        "context": f'Sys.chdir "{S2N_ROOT_IN_IMAGE}";;',
        "problems_file": "problems.jsonl",
        "source": str(src.resolve()),
        "metadata": {**metadata, "hol_light_version": HOL_LIGHT_PIN},
        "template_includes": template_includes,
        "benchmark_layout": LAYOUT,
    }
    if checker is not None:  # the checkers the suite asks for (suite.yaml's ``checker``)
        manifest["checker"] = checker
    if prompts:
        manifest["prompts"] = list(prompts)
    (out / "suite.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


def timeouts_line(report: ImportReport, scale: float) -> str:
    """One line saying how an import chose its timeouts, and how to pass the benchmark's map if it had none."""
    defaults = sorted({f"{t:g}" for t in CATEGORY_TIMEOUTS_S.values()})
    default = f"its category's default from the benchmark's timeouts.json ({', '.join(defaults)} s)"
    scaled = f"times {scale:g} (--timeout-scale)"
    if report.timeouts_from_map == report.problems:
        return f"timeouts: every problem's own from the benchmark's timeout map, {scaled}"
    if report.timeouts_from_map == 0:
        return (
            f"timeouts: no timeout map, so every problem has {default}, {scaled}: "
            f"{max(CATEGORY_TIMEOUTS_S.values()) * scale:g} s; the benchmark's per-problem timeouts (2 to 5 times "
            "each reference proof's time) come with --timeout-map timeout-map.json, or with --revision"
        )
    rest = report.problems - report.timeouts_from_map
    return f"timeouts: {report.timeouts_from_map} from the timeout map, the other {rest} {default}; {scaled}"


def prompts_line(report: ImportReport) -> str:
    """One line saying which of the benchmark's prompt files the suite keeps, or why it has none."""
    if report.prompts:
        return (
            f"prompt files: {', '.join(report.prompts)}, the benchmark's own, in {report.out / PROMPTS_DIR} "
            "(what `--prompt s2n-bignum-bench` sends)"
        )
    return (
        "prompt files: none (they come from a benchmark checkout: --revision without --timeout-map, or with "
        "--bench-src, or --from the benchmark's folder), so `--prompt s2n-bignum-bench` cannot prompt for this suite"
    )


# ----- the benchmark's category rule ----------------------------------------

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


def is_expression(goal: str) -> bool:
    """Whether a goal is computed at run time: anything but one backquoted term (in parentheses or not).

    The benchmark keeps such goals (``(rand o concl o CONV) `...```) and evaluates them when it checks.
    """
    quoted = goal.strip()
    while quoted.startswith("(") and quoted.endswith(")"):
        quoted = quoted[1:-1].strip()
    return not (quoted.startswith("`") and quoted.endswith("`") and quoted.count("`") == 2)


def statement_fields(query: str) -> dict[str, Any]:
    """A problem's statement fields for a benchmark query: its term, or the expression that computes it."""
    if is_expression(query):
        return {"statement": query.strip(), "statement_is_expression": True, "original_statement": query}
    return {"statement": goal_term(query), "original_statement": query}


def categorize(name: str, goal: str, arch: str) -> tuple[str | None, str]:
    """(category, "") for a kept theorem, or (None, why) for one the benchmark leaves out."""
    if goal_term(goal) is None:
        return None, "the goal has no quoted term"
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
