"""Vetting of the Lean commands that change how later commands are read: attributes, scopes, options.

The trusted commands provebench runs after a candidate (the fingerprint, the
answer check) are elaborated on the candidate's environment and scope. So a
candidate must not leave a namespace or section open (names in the trusted
commands would resolve to its own ``Decoy.Lean.collectAxioms``), register
code of its own to run at elaboration (``@[command_elab]`` is what ``elab``
expands to), or set options that make the trusted commands fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provebench.systems.lean.tokens import LeanToken, is_keyword, name_parts


@dataclass(frozen=True)
class Flag:
    """A flagged construct in a candidate: ``word`` is what is counted against the statement's own use."""

    word: str
    line: int
    why: str = "is not allowed here"

    def message(self) -> str:
        """One line for the verdict."""
        return f"line {self.line}: `{self.word}` {self.why}"


# Attributes that only tag a declaration for tactics and tools that already exist; none runs code the
# candidate wrote. Every other attribute is flagged as `@[name]`, allowed as often as the statement uses
# it; among them those that register code to run at elaboration (command_elab, term_elab, tactic, macro,
# delab, app_unexpander, norm_num and positivity extensions, simproc, init, env_linter) or replace
# compiled code (csimp, implemented_by, extern, export), and every builtin_*.
ALLOWED_ATTRIBUTES = frozenset(
    {
        # Lemmas for simp, simp sets and the tactics built on them: a lemma is a proved theorem, so it can
        # make a check succeed only soundly, or loop (a timeout, which only hurts the candidate).
        "simp",
        "simps",
        "field_simps",
        "norm_cast",
        "push_cast",
        "nontriviality",
        "grind",
        "ext",
        "congr",
        "refl",
        "symm",
        "trans",
        "mono",
        "gcongr",
        "fun_prop",
        "mk_iff",
        "to_additive",  # its `(attr := ...)` list is vetted as attributes too
        # aesop's own attribute is not here: its default builder runs a `TacticM Unit` declaration of the
        # candidate's as a rule. These two are aesop rule sets fixed to the `apply` builder.
        "continuity",
        "measurability",
        # How much unfolds: the fingerprint compares types and values, which transparency does not change.
        "reducible",
        "irreducible",
        "semireducible",
        # Counted by the word rule as `instance`, against the statement's own instances.
        "instance",
        # How the candidate's own proofs elaborate eliminators and patterns.
        "elab_as_elim",
        "induction_eliminator",
        "cases_eliminator",
        "match_pattern",
        # Compiler hints: compiled code is never trusted for a proof (native_decide and #eval are flagged).
        "inline",
        "noinline",
        "specialize",
        # Display, documentation and linting only.
        "coe",
        "pp_nodot",
        "nolint",
        "deprecated",
        "inherit_doc",
    }
)
_MODIFIERS = frozenset({"local", "scoped", "-"})
_OPENERS = frozenset("([{⟨⦃")
_CLOSERS = frozenset(")]}⟩⦄")
_DEEPEST = 4  # `(attr := ...)` lists within lists; a deeper one is not read but flagged as `@[...]`


def attribute_flags(tokens: list[LeanToken], text: str) -> list[Flag]:
    """Each attribute in ``@[...]`` and ``attribute [...] names`` that is not on the allowlist, as ``@[name]``."""
    out: list[Flag] = []
    i = 0
    while i < len(tokens):
        if (tokens[i].text == "@" or is_keyword(tokens, i, text, "attribute")) and _text(tokens, i + 1) == "[":
            named, i = _attributes(tokens, i + 2)
            out += [Flag(f"@[{name}]", line) for name, line in named if name not in ALLOWED_ATTRIBUTES]
        i += 1  # past the list's closing bracket: each token is read once, however many `@[` a file has
    return out


def _text(tokens: list[LeanToken], i: int) -> str:
    return tokens[i].text if i < len(tokens) else ""


def _attributes(tokens: list[LeanToken], i: int, depth: int = 0) -> tuple[list[tuple[str, int]], int]:
    """The names (with lines) in the attribute list at ``tokens[i]`` and its ``(attr := ...)`` lists; its end."""
    entries, close = _entries(tokens, i)
    if depth > _DEEPEST:
        return [("...", tokens[i - 1].line)], close
    found: list[tuple[str, int]] = []
    for start, end in entries:
        j = start
        while j < end and tokens[j].text in _MODIFIERS:
            j += 1
        if j < end:
            found.append((".".join(name_parts(tokens[j].text)) or tokens[j].text, tokens[j].line))
        k = j + 1
        while k < end:
            if [x.text for x in tokens[k : k + 3]] == ["attr", ":", "="]:
                nested, k = _attributes(tokens, k + 3, depth + 1)
                found += nested
            k += 1
    return found, close


def _entries(tokens: list[LeanToken], i: int) -> tuple[list[tuple[int, int]], int]:
    """The comma-separated entries (token index ranges) of a list, and the index of its closing bracket."""
    entries, start, depth = [], i, 0
    while i < len(tokens):
        text = tokens[i].text
        if depth == 0 and text in ("]", ")"):
            break
        if depth == 0 and text == ",":
            entries.append((start, i))
            start = i + 1
        depth += (text in _OPENERS) - (text in _CLOSERS)
        i += 1
    entries.append((start, i))
    return entries, i


@dataclass(frozen=True)
class _Scope:
    label: str  # as written: `namespace A.B`, `noncomputable section`, `mutual`
    header: str  # the one name component this scope stands for ("" for an unnamed section or mutual)
    line: int


def scope_flags(tokens: list[LeanToken], text: str) -> list[Flag]:
    """An ``end`` that closes no open scope or not the one it names, and every scope left open at the end."""
    stack: list[_Scope] = []
    out: list[Flag] = []
    for i, t in enumerate(tokens):
        if is_keyword(tokens, i, text, "namespace") or is_keyword(tokens, i, text, "section"):
            stack += _opened(tokens, i)
        elif is_keyword(tokens, i, text, "mutual"):
            stack.append(_Scope("mutual", "", t.line))
        elif is_keyword(tokens, i, text, "end"):
            out += _closed(stack, _name_after(tokens, i), t.line)
    left = list(dict.fromkeys((s.label, s.line) for s in stack))
    return out + [Flag(label, line, "is left open at the end of the file") for label, line in left]


def _name_after(tokens: list[LeanToken], i: int) -> str | None:
    """The name a ``namespace``, ``section`` or ``end`` at ``tokens[i]`` gives: an identifier on the same line."""
    if i + 1 < len(tokens) and tokens[i + 1].line == tokens[i].line and tokens[i + 1].is_word:
        return tokens[i + 1].text
    return None


def _opened(tokens: list[LeanToken], i: int) -> list[_Scope]:
    """The scopes a ``namespace``/``section`` opens: one per name component (``namespace A.B`` opens two)."""
    t, name = tokens[i], _name_after(tokens, i)
    label = f"{t.text} {name}" if name else t.text
    if i > 0 and tokens[i - 1].text == "noncomputable":
        label = f"noncomputable {label}"
    return [_Scope(label, part, t.line) for part in (name_parts(name) if name else [""])]


def _closed(stack: list[_Scope], name: str | None, line: int) -> list[Flag]:
    """Pop the scopes an ``end NAME`` closes (one per component, as Lean does); flag what does not match."""
    parts = name_parts(name) if name else [""]
    word = f"end {name}" if name else "end"
    if len(parts) > len(stack):
        stack.clear()
        return [Flag(word, line, "closes no open scope")]
    closed = stack[len(stack) - len(parts) :]
    del stack[len(stack) - len(parts) :]
    wrong = [s for s, part in zip(closed, parts, strict=True) if s.header != part]
    return [Flag(word, line, f"does not close `{s.label}` (opened on line {s.line})") for s in wrong[:1]]


# Options a candidate may set, with what it may set them to. An option set without `in` holds for the
# trusted commands after the file too, so a limit may be raised (the wall clock still bounds a check) but
# never lowered below Lean's default, where `set_option maxHeartbeats 1` would make them fail.
_LEAST = {
    "maxHeartbeats": 200_000,
    "maxRecDepth": 512,
    "synthInstance.maxHeartbeats": 20_000,
    "synthInstance.maxSize": 128,
}
_NO_LIMIT = frozenset({"maxHeartbeats", "synthInstance.maxHeartbeats"})  # 0 means no limit
_BOOLEAN = frozenset({"autoImplicit", "relaxedAutoImplicit"})
_NUMBER = re.compile(r"[0-9]+(?![\w.'])")


def option_flags(tokens: list[LeanToken], text: str) -> list[Flag]:
    """Each ``set_option NAME VALUE`` (``in`` or not) outside the allowlist and its bounds."""
    out: list[Flag] = []
    for i, t in enumerate(tokens):
        if not is_keyword(tokens, i, text, "set_option"):
            continue
        if i + 1 >= len(tokens) or not tokens[i + 1].is_word:
            out.append(Flag("set_option", t.line, "names no option"))
            continue
        name = ".".join(name_parts(tokens[i + 1].text))
        value = _value(tokens, i + 2, text, tokens[i + 1].end)
        if not _option_known(name):
            out.append(Flag(f"set_option {name}", t.line, "is not an option a candidate may set"))
        elif (why := _value_refused(name, value)) is not None:
            out.append(Flag(f"set_option {name} {value or '?'}", t.line, why))
    return out


def _value(tokens: list[LeanToken], i: int, text: str, after_name: int) -> str | None:
    """The option's value as written (``true``, ``false`` or a decimal number); None if it is anything else."""
    if i >= len(tokens) or '"' in text[after_name : tokens[i].start]:
        return None  # a string value (the tokenizer leaves strings out)
    if tokens[i].text in ("true", "false"):
        return tokens[i].text
    m = _NUMBER.match(text, tokens[i].start)
    return m.group() if m else None


def _option_known(name: str) -> bool:
    return name in _LEAST or name in _BOOLEAN or name.startswith(("linter.", "pp.", "trace."))


def _value_refused(name: str, value: str | None) -> str | None:
    """Why an allowed option may not take ``value``, or None if it may."""
    boolean = value in ("true", "false")
    number = int(value) if value is not None and value.isdigit() else None
    if name in _LEAST:
        least, no_limit = _LEAST[name], name in _NO_LIMIT
        if number is not None and (number >= least or (number == 0 and no_limit)):
            return None
        return f"is refused: the value must be at least Lean's default {least}" + (" or 0 (no limit)" * no_limit)
    if name.startswith("pp."):  # printing only: the fingerprint prints with Lean's own debug printer
        return None if boolean or number is not None else "is refused: the value must be true, false or a number"
    if name.startswith("trace."):
        # A trace left on writes messages into the trusted commands' output (and slows them); off is the default.
        return None if value == "false" else "is refused: traces may only be turned off"
    return None if boolean else "is refused: the value must be true or false"  # linter.*, autoImplicit
