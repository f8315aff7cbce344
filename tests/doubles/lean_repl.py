"""TEST DOUBLE of the Lean REPL process (leanprover-community/repl), for machines without a Lean toolchain.

It speaks the REPL's documented protocol exactly: a JSON command followed by
a blank line in (``{"cmd": ...}`` starts a new environment and may import;
``{"cmd": ..., "env": N}`` builds on environment N); out, the response
pretty-printed as Lean prints JSON (``{"env": N, "messages": [...],
"sorries": [...]}``, empty lists left out, messages with ``severity``,
``pos``, ``endPos`` and ``data``) and a blank line; ``{"message": ...}`` for
an error such as an unknown environment; a malformed command ends the
process, as an uncaught exception does in the real REPL.

What it cannot do is elaborate Lean: it keeps each declaration's header and
body as text, so that provebench's checks have something real to compare.
It understands just enough of a file: ``theorem``/``lemma``/``def``/``abbrev``
/``axiom``/``instance`` declarations at the start of a line, ``namespace``, ``sorry``,
``native_decide``, ``#exit``, ``import``, and provebench's trusted commands
(the fingerprint ``#eval`` and the answer check ``example``), which it
answers from those texts. Scripted faults, for the checker's limits:
``-- double: hang`` (never answers), ``-- double: crash`` (exits),
``-- double: error TEXT`` (an error message), ``-- double: slow SECONDS``.
With PB_LEAN_REPL_DOUBLE_HANGING set to a path, the double makes that file as it starts to hang, so
that a test can wait for a hanging check to be under way instead of sleeping.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DECL = re.compile(
    r"^(?:@\[[^\]]*\]\s*)?(?:(?:noncomputable|private|protected|nonrec)\s+)*"
    r"(?P<kind>theorem|lemma|def|abbrev|axiom|instance|example)\b\s*(?P<name>[^\s:({\[]*)(?P<rest>.*)$",
    re.DOTALL,
)
# CombiBench's own appended answer example: `example: SLOT = ANSWER := by try rfl; try norm_num`.
BENCHMARK_EXAMPLE = re.compile(r"^example\s*:\s*(?P<lhs>[\w.']+) = (?P<rhs>.*?) := by", re.DOTALL)
# The verifier's trusted answer check, plain or from a problem's template (binders passed by name,
# the reference answer ascribed the slot's type).
ANSWER_CHECK = re.compile(
    r"^example(?P<binders>(?:\s*[({\[][^)}\]]*[)}\]])*)\s*:\s*\((?P<lhs>[\w.']+)(?P<args>(?:\s*\(\w+ := \w+\))*)\) "
    r"(?P<op>=|≠) \((?P<rhs>.*)\) := by",
    re.DOTALL,
)
FINGERPRINT = re.compile(r"provebench_fingerprint \[(?P<names>[^\]]*)\]")


@dataclass
class Decl:
    kind: str
    name: str
    header: str  # binders and type, as written
    body: str
    axioms: set[str] = field(default_factory=set)


@dataclass
class Env:
    decls: dict[str, Decl] = field(default_factory=dict)


ENVS: list[Env] = []


def emit(obj: dict[str, object]) -> None:
    """As the REPL prints: Lean's pretty JSON (here: indented), then a blank line."""
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def message(severity: str, line: int, data: str) -> dict[str, object]:
    return {
        "severity": severity,
        "pos": {"line": line, "column": 0},
        "endPos": {"line": line, "column": 1},
        "data": data,
    }


def split_decls(text: str) -> list[tuple[int, str]]:
    """Top-level chunks: a new one starts at a line beginning with a declaration keyword or a command."""
    chunks: list[tuple[int, list[str]]] = []
    for n, line in enumerate(text.split("\n"), 1):
        starts = re.match(
            r"^(@\[|noncomputable|private|protected|theorem|lemma|def|abbrev|axiom|instance|example|#|open|namespace|end|section|variable|set_option|/--|--)",
            line,
        )
        if starts or not chunks:
            chunks.append((n, [line]))
        else:
            chunks[-1][1].append(line)
    return [(n, "\n".join(lines)) for n, lines in chunks]


def run(cmd: str, env: Env | None) -> dict[str, object]:
    if "-- double: hang" in cmd:
        if mark := os.environ.get("PB_LEAN_REPL_DOUBLE_HANGING"):
            Path(mark).touch()
        while True:
            time.sleep(3600)
    if "-- double: crash" in cmd:
        sys.exit(137)
    if (m := re.search(r"-- double: slow ([0-9.]+)", cmd)) is not None:
        time.sleep(float(m.group(1)))
    new = Env(decls=dict(env.decls) if env else {})
    messages: list[dict[str, object]] = []
    sorries: list[dict[str, object]] = []
    if (m := re.search(r"-- double: error (.*)", cmd)) is not None:
        messages.append(message("error", 1, m.group(1)))
    namespaces: list[str] = []
    for line_no, chunk in split_decls(cmd):
        stripped = chunk.strip()
        if (ns := re.match(r"namespace\s+(\S+)", stripped)) is not None:
            namespaces.append(ns.group(1))
            continue
        if re.match(r"end\b", stripped) and namespaces:
            namespaces.pop()
            continue
        if stripped.startswith("#exit"):
            break
        if stripped.startswith("import"):
            if env is not None:
                messages.append(
                    message("error", line_no, "invalid 'import' command, it must be used in the beginning of the file")
                )
            continue
        if (fp := FINGERPRINT.search(chunk)) is not None:
            names = [n.strip().strip("`") for n in fp.group("names").split(",") if n.strip()]
            messages.append(message("info", line_no, json.dumps([fingerprint(new, n) for n in names])))
            continue
        if (ac := ANSWER_CHECK.match(stripped)) is not None:
            messages.extend(answer_check(new, ac, line_no))
            continue
        if (be := BENCHMARK_EXAMPLE.match(stripped)) is not None:
            wrong = answer_check(new, be, line_no, op="=")
            messages.extend(message("error", line_no, "unsolved goals") for _ in wrong)
            continue
        d = DECL.match(stripped)
        if d is None:
            continue
        kind, name, rest = d.group("kind"), d.group("name"), d.group("rest")
        name = ".".join([*namespaces, name]) if name else name
        header, _, body = rest.partition(":=")
        if kind == "axiom":
            header, body = rest, ""
        if name and name in new.decls:
            messages.append(message("error", line_no, f"'{name}' has already been declared"))
            continue
        axioms = {"propext"}
        if kind == "axiom":
            axioms = {name}
        used = set(re.findall(r"[\w.']+", body))
        for other in used & set(new.decls):
            axioms |= new.decls[other].axioms
        if re.search(r"\bsorry\b", body):
            messages.append(message("warning", line_no, "declaration uses 'sorry'"))
            sorries.append(
                {
                    "pos": {"line": line_no, "column": 0},
                    "endPos": {"line": line_no, "column": 5},
                    "goal": "⊢ " + " ".join(header.split()).lstrip(": "),
                }
            )
            axioms.add("sorryAx")
        if re.search(r"\bnative_decide\b", body):
            axioms.add("Lean.ofReduceBool")
        if name:
            new.decls[name] = Decl(kind, name, " ".join(header.split()), " ".join(body.split()), axioms)
    ENVS.append(new)
    out: dict[str, object] = {"env": len(ENVS) - 1}
    if messages:
        out["messages"] = messages
    if sorries:
        out["sorries"] = sorries
    return out


def fingerprint(env: Env, name: str) -> dict[str, object]:
    d = env.decls.get(name)
    if d is None:
        return {"name": name, "missing": True}
    value = d.body if d.kind in ("def", "abbrev", "instance") else None
    return {"name": name, "kind": d.kind, "type": d.header, "value": value, "axioms": sorted(d.axioms)}


def answer_check(env: Env, m: re.Match[str], line: int, op: str | None = None) -> list[dict[str, object]]:
    d = env.decls.get(m.group("lhs"))
    if d is None:
        return [message("error", line, f"unknown identifier '{m.group('lhs')}'")]
    rhs = " ".join(m.group("rhs").split())
    declared_type = " ".join(d.header.partition(":")[2].split())
    if declared_type and rhs.startswith("(") and rhs.endswith(f" : {declared_type})"):
        rhs = rhs[1 : -len(f" : {declared_type})")]  # the template's type ascription
    equal = " ".join(d.body.split()) == rhs
    holds = equal if (op or m.group("op")) == "=" else not equal
    return [] if holds else [message("error", line, "linarith failed, first | rfl | ... failed")]


def main() -> None:
    while True:
        lines = []
        while True:
            line = sys.stdin.readline()
            if line == "":
                if not lines:
                    return
                break
            if not line.strip():
                break
            lines.append(line.rstrip("\n"))
        if not lines:
            continue
        query = "".join(lines)
        try:
            request = json.loads(query)
        except json.JSONDecodeError as exc:
            print(f'uncaught exception: {{"message": "Could not parse JSON:\\n{exc}"}}', file=sys.stderr)
            sys.exit(1)
        env = request.get("env")
        if env is not None and not (isinstance(env, int) and 0 <= env < len(ENVS)):
            emit({"message": "Unknown environment."})
            continue
        emit(run(str(request.get("cmd", "")), ENVS[env] if env is not None else None))


if __name__ == "__main__":
    main()
