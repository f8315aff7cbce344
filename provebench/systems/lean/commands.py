"""The text provebench sends the Lean REPL: the candidate's body, and the trusted commands that judge it."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from typing import Any

from provebench.core.model import Problem
from provebench.systems.lean.fill_in import FillInAnswer, solution_names
from provebench.systems.lean.session import Answer
from provebench.systems.lean.wire import Message

IMPORT_LINE = re.compile(r"^\s*import\s+(\S+)\s*$")


# A declaration may be indented (CombiBench's imo_2022_p1 is) and follow its doc comment and attributes on
# the same line; a statement's theorem missed here would go unchecked, so this errs towards finding.
_DECLARATION = re.compile(
    r"^[ \t]*(?:/--(?:(?!-/).)*-/\s*)?(?:@\[[^\]]*\]\s*)*(?:(?:noncomputable|private|protected|nonrec)\s+)*"
    r"(theorem|lemma|def|abbrev)\s+([^\s:({\[]+)",
    re.MULTILINE | re.DOTALL,
)


def candidate_body(proof: str, header_imports: Sequence[str]) -> str:
    """The candidate without its leading imports of the header's modules (which the REPL already has)."""
    lines = proof.split("\n")
    i = 0
    while i < len(lines):
        m = IMPORT_LINE.match(lines[i])
        if lines[i].strip() and not (m and m.group(1) in header_imports):
            break
        i += 1
    return "\n" * i + "\n".join(lines[i:])  # line numbers kept for messages


_SCOPE = re.compile(r"^\s*(?:(namespace)\s+(\S+)|(?:noncomputable\s+)?(section|mutual)\b|(end)\b)", re.MULTILINE)


def declarations(statement: str) -> list[tuple[str, str]]:
    """Each theorem and definition a trusted statement declares, as (keyword, full name), in order.

    A declaration inside ``namespace A.B`` is ``A.B.name`` (CombiBench's imo_2024_p5 states its theorem
    in a namespace it never closes); sections and ``mutual`` blocks add nothing to names.
    """
    return _scan(statement)[0]


def namespace_at_end(statement: str) -> str:
    """The namespace still open where the statement ends ("" at the root): where appended text declares."""
    return _scan(statement)[1]


def _scan(statement: str) -> tuple[list[tuple[str, str]], str]:
    events = [(m.start(), "scope", m) for m in _SCOPE.finditer(statement)]
    events += [(m.start(), "decl", m) for m in _DECLARATION.finditer(statement)]
    scopes: list[list[str]] = []  # per open scope, the name parts it adds
    found: list[tuple[str, str]] = []
    for _, what, m in sorted(events, key=lambda e: e[0]):
        if what == "decl":
            prefix = [part for scope in scopes for part in scope]
            found.append((m.group(1), ".".join([*prefix, m.group(2)])))
        elif m.group(1):
            scopes.append(m.group(2).split("."))
        elif m.group(3):
            scopes.append([])
        elif scopes:
            scopes.pop()
    return list(dict.fromkeys(found)), ".".join(part for scope in scopes for part in scope)


def declared_names(statement: str) -> list[str]:
    """The theorems and definitions a trusted statement declares, in order."""
    return list(dict.fromkeys(name for _, name in declarations(statement)))


def fingerprint_command(names: Sequence[str]) -> str:
    """A trusted command printing each declaration's kind, elaborated type, value (definitions) and axioms."""
    listed = ", ".join(f"`{n}" for n in names)
    return f"""open Lean Elab Command in
#eval show CommandElabM Unit from do
  -- provebench_fingerprint [{", ".join(names)}]
  let env ← getEnv
  let mut out : Array Json := #[]
  for n in ([{listed}] : List Name) do
    match env.find? n with
    | none => out := out.push (Json.mkObj [("name", Json.str n.toString), ("missing", Json.bool true)])
    | some ci =>
      let axs ← Lean.collectAxioms n
      let kind := match ci with
        | .thmInfo _ => "theorem"
        | .defnInfo _ => "def"
        | .axiomInfo _ => "axiom"
        | _ => "other"
      let value : Json := match ci with
        | .defnInfo d => Json.str (toString d.value)
        | _ => Json.null
      out := out.push (Json.mkObj [("name", Json.str n.toString), ("kind", Json.str kind),
        ("type", Json.str (toString ci.type)), ("value", value),
        ("axioms", Json.arr (axs.map fun a => Json.str a.toString))])
  logInfo (Json.arr out).compress
"""


def answer_command(
    slot: str, answer: str, negate: bool = False, mathlib: bool = True, template: str | None = None
) -> str:
    """A trusted check that the candidate's answer equals (or, negated, differs from) the reference answer.

    CombiBench's answer-judging tactics in turn: rfl, norm_num (with Mathlib), decide, simp. A problem's
    own template (binders, functions, sets) also tries extensionality before simp.
    """
    op = "≠" if negate else "="
    norm_num = f" | norm_num [{slot}]" if mathlib else ""
    tactics = f"first | rfl{norm_num} | decide | simp [{slot}]"
    if template is None:
        return f"example : ({slot}) {op} ({answer}) := by {tactics}\n"
    if not negate:
        tactics += f" | (ext; simp [{slot}])"
    return string.Template(template).safe_substitute(solution=slot, answer=answer, op=op, tactics=tactics) + "\n"


def split_answers(answer: str, slots: int) -> list[str] | None:
    """One reference answer per slot: the answer itself, or a ``[a, b, c]`` list with one per slot."""
    if slots == 1:
        return [answer]
    text = answer.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    parts, depth, current = [], 0, ""
    for c in text[1:-1]:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += c
    parts.append(current.strip())
    return parts if len(parts) == slots else None


def reference_answers(problem: Problem) -> list[tuple[str, str]] | None:
    """Each answer slot of a fill-in problem with its reference answer, or None if there is none to judge by."""
    slots = solution_names(problem.id, problem.statement)
    fill_in = problem.extension(FillInAnswer)
    answers = split_answers(fill_in.answer, len(slots)) if slots and fill_in is not None and fill_in.answer else None
    return list(zip(slots, answers, strict=True)) if answers is not None else None


def first_info_json(answer: Answer) -> list[dict[str, Any]] | None:
    """The first info message that is a JSON list (what the trusted fingerprint command prints)."""
    for m in answer.messages("info"):
        try:
            value = json.loads(m.data)
        except json.JSONDecodeError:
            continue
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return None


def describe_messages(messages: list[Message], limit: int = 5) -> tuple[str, ...]:
    """The first messages as verdict lines: ``line N: text``."""
    return tuple(f"line {m.pos.line}: {m.data.strip()}" for m in messages[:limit])
