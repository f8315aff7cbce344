"""Static vetting of Lean 4 candidates: flagged words over a Lean-aware tokenizer (``lean_tokens``).

A candidate is the whole Lean file a prover returns (the problem's own
definitions, then the theorem with its proof). Constructs that can forge a
proof, skip the checks that follow compilation, or change what the statement
means are flagged: words here; attributes, scopes and options in
``lean_vetting_commands``; aesop's rule clauses in ``lean_vetting_aesop``. A
construct the trusted statement itself uses (CombiBench statements have
``variable``, ``instance``, ``attribute [local aesop safe]``, one leaves
``namespace Imo_2024_p5`` open) is allowed as many times as the statement uses
it, never more.
"""

from __future__ import annotations

from collections import Counter

from provebench.systems.lean.tokens import LeanLexicalError, LeanToken, name_parts, tokenize
from provebench.systems.lean.vetting_aesop import aesop_flags, aesop_phases
from provebench.systems.lean.vetting_commands import Flag, attribute_flags, option_flags, scope_flags

__all__ = ["FLAGGED_WORDS", "Flag", "LeanLexicalError", "LeanToken", "flags", "tokenize"]

# Words that are refused outright or beyond the statement's own use (the list, and their variants).
FLAGGED_WORDS = frozenset(
    {
        "sorry",
        "admit",
        "sorryAx",
        "axiom",
        "native_decide",
        "ofReduceBool",
        "ofReduceNat",
        "implemented_by",
        "extern",
        "#exit",
        "#guard_msgs",
        "skipKernelTC",
        "unsafe",
        "run_cmd",
        "run_elab",
        "run_meta",
        "run_tac",
        "#eval",
        "#eval!",
        "#print",
        "elab",
        "elab_rules",
        "macro",
        "macro_rules",
        "syntax",
        "notation",
        "infix",
        "infixl",
        "infixr",
        "prefix",
        "postfix",
        "instance",
        "include",
        "variable",
        "prelude",
        "import",
        "trustCompiler",
        # Code of the candidate's run at start-up or by simp, syntax of its own, options and aliases that
        # outlive the file (`export` makes `Lean.collectAxioms` ambiguous in the trusted commands).
        "initialize",
        "builtin_initialize",
        "declare_syntax_cat",
        "simproc",
        "dsimproc",
        "simproc_decl",
        "dsimproc_decl",
        "builtin_simproc",
        "builtin_dsimproc",
        "builtin_simproc_decl",
        "builtin_dsimproc_decl",
        "register_simp_attr",
        "register_option",
        "register_builtin_option",
        "export",
        # What `@[aesop]` does, as a command: a rule of the candidate's own, run as a tactic by aesop.
        "add_aesop_rules",
    }
)


def _words(tokens: list[LeanToken]) -> list[Flag]:
    """Flagged words: identifiers split at dots (``Lean.ofReduceBool``, ``«sorryAx»``), ``decide +native`` joined.

    aesop's phase ``unsafe`` (``aesop (add unsafe 50% foo)``, a rule tried with backtracking) is not the keyword.
    """
    out: list[Flag] = []
    phases = aesop_phases(tokens)
    for i, t in enumerate(tokens):
        if t.start in phases and t.text == "unsafe":
            continue
        out += [Flag(part, t.line) for part in name_parts(t.text) if part in FLAGGED_WORDS]
        if t.text == "decide" and [x.text for x in tokens[i + 1 : i + 3]] == ["+", "native"]:
            out.append(Flag("decide +native", t.line))
    return out


def _all_flags(text: str) -> list[Flag]:
    """Every flagged construct of ``text``, by line."""
    tokens = tokenize(text)
    found = _words(tokens) + attribute_flags(tokens, text) + option_flags(tokens, text) + scope_flags(tokens, text)
    found += aesop_flags(tokens, text)
    return sorted(found, key=lambda f: f.line)


def flags(candidate: str, statement: str) -> list[Flag]:
    """What the candidate uses beyond the statement's own use; ``sorry``-like words never."""
    allowed = Counter(f.word for f in _all_flags(statement))
    for never in ("sorry", "admit", "sorryAx", "import"):
        allowed[never] = 0
    seen: Counter[str] = Counter()
    found = []
    for f in _all_flags(candidate):
        seen[f.word] += 1
        if seen[f.word] > allowed[f.word]:
            found.append(f)
    return found
