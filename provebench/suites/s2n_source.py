"""Import s2n-bignum-bench straight from an s2n-bignum checkout.

Every top-level theorem of every function's proof file, and of everything it
loads, with the benchmark's id, category and duplicate rules (see
``s2n_bignum``). Templates are the proof files with every proof admitted,
line numbers kept; a problem's context is its function's file with includes
expanded as HOL Light loads them, up to the theorem.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provebench.core.errors import UserError
from provebench.suites.s2n_bignum import (
    CATEGORY_TIMEOUTS_S,
    TIMEOUT_SCALE,
    ImportReport,
    categorize,
    load_timeout_map,
    statement_fields,
    write_suite,
)
from provebench.systems.hol_light.source import SourceFile, TopTheorem, inline, scan_file


def _base_of(item: tuple[str, Any, str, int]) -> str:
    rel, theorem = item[0], item[1]
    return f"{rel.split('/')[0]}.{Path(rel).stem}.{theorem.name}"


def _git_commit(checkout: Path) -> str | None:
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
    timeout_scale: float = TIMEOUT_SCALE,
    metadata: dict[str, str] | None = None,
    checker: str | None = None,
    prompts: dict[str, bytes] | None = None,
) -> SourceImport:
    """Write a suite from an s2n-bignum checkout: every top-level theorem of every proof file.

    Each top-level file (a proof file no other file includes) is a template:
    its includes of s2n-bignum files are expanded as HOL Light loads them,
    with every proof admitted; a theorem's context is that stream up to the
    theorem, in the first template (by path) that reaches it. Ids follow the
    benchmark: ``{arch}.{file}.{THEOREM}``, ``.N`` when a file proves two
    theorems of one name. ``prompts``: the benchmark's prompt files (name ->
    bytes) to keep in the suite, when a benchmark checkout is at hand.
    """
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
            scanned[rel] = scan_file(checkout / rel)
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
                **statement_fields(theorem.goal),
                "category": category,
                "timeout_s": CATEGORY_TIMEOUTS_S[category],
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
    recorded = {"s2n_bignum_commit": _git_commit(checkout) or "unknown", "imported_from": "source", **(metadata or {})}
    admitted = {rel: s.admitted().split("\n") for rel, s in scanned.items()}
    write_suite(
        out,
        entries,
        admitted,
        checkout,
        recorded,
        template_includes=True,
        timeout_scale=timeout_scale,
        checker=checker,
        prompts=prompts,
    )
    report = ImportReport(
        out=out,
        problems=len(entries),
        by_category=dict(Counter(e["category"] for e in entries)),
        templates=len(roots),
        timeouts_from_map=sum(1 for e in entries if e["id"] in timeouts),
        prompts=tuple(prompts or {}),
    )
    return SourceImport(report=report, dropped=dict(dropped), skipped_files=tuple(skipped))
