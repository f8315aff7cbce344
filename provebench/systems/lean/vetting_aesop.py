"""Vetting of aesop calls: rule clauses that would run code of the candidate's own during elaboration.

``aesop``, ``aesop?`` and the tactics built on it that pass clauses on (Mathlib's ``aesop_cat``,
``aesop_graph``, ``aesop_mat``, ``restrict_tac``, ...) take clauses ``(add RULE_EXPR,+)``,
``(erase RULE_EXPR,+)``, ``(rule_sets [-?NAME,+])``, ``(config := TERM)`` and ``(simp_config := TERM)``.
An added rule built by aesop's ``tactic`` builder runs the named declaration (``TacticM Unit``,
``SingleRuleTac`` or ``RuleTac``) as a tactic, and the default builder tries ``tactic`` before ``apply``:
so ``aesop (add safe myTac)`` runs ``myTac``'s code in the REPL, where it can forge what the trusted
commands after the file print. ``config`` and ``simp_config`` terms are evaluated as compiled code.

Flagged: the ``tactic`` builder in an ``add`` clause, and a name in an ``add``, ``rule_sets``, ``config``
or ``simp_config`` clause that the file itself declares (matched by its last component, wherever the
file declares it, so no namespace or ``open`` hides it), unless the rule names a builder that runs no
code (``aesop (add norm unfold f)`` unfolds the statement's ``f``). A theorem of the file's own stays allowed as a
rule: a theorem's type is a proposition, never a tactic's type (but what its ``where`` clause declares,
``t.aux``, is a definition, and is flagged). ``erase`` only names rules to disable: it runs nothing. Library lemmas,
``aesop (add safe Nat.le_refl)``, stay allowed unless the file declares that name too.
"""

from __future__ import annotations

from provebench.systems.lean.tokens import LeanToken, is_keyword, name_parts
from provebench.systems.lean.vetting_commands import Flag

_CLAUSE_TACTICS = frozenset({"aesop", "aesop?", "restrict_tac", "restrict_tac?"})  # and every `aesop_*`
_CHECKED = frozenset({"add", "rule_sets", "config", "simp_config", "options"})  # `erase` runs nothing
_CLAUSES = _CHECKED | {"erase"}
_NO_CODE_BUILDERS = frozenset({"apply", "simp", "unfold", "constructors", "forward", "destruct", "cases"})
_THEOREMS = frozenset({"theorem", "lemma"})
_DECLARING = _THEOREMS | {"def", "abbrev", "opaque", "structure", "inductive", "class", "instance", "axiom"}
_FIELDS = frozenset({"structure", "class", "inductive", "instance"})  # their `where` lists fields, not declarations
_AUX = frozenset({"where", "rec"})  # `... where aux ... := ...`, `let rec aux ...`: declarations too
_NOT_NAMES = frozenset({"safe", "norm", "unsafe", "apply", "simp", "unfold", "constructors", "forward"})
_NOT_NAMES |= {"destruct", "cases", "default", "immediate", "index", "pattern", "cases_patterns", "transparency"}
_NOT_NAMES |= {"transparency!", "target", "hyp", "unindexed", "reducible", "instances", "all", "_root_"}


def aesop_flags(tokens: list[LeanToken], text: str) -> list[Flag]:
    """Each aesop clause that adds a tactic rule or names code the file declares (see the module docstring)."""
    declared = _declared(tokens, text)
    out: list[Flag] = []
    for tactic, kind, inside in _clauses(tokens):
        if kind == "add" and any(x.text == "tactic" for x in inside):
            out.append(Flag(f"{tactic} (add tactic)", inside[0].line, "adds a rule that runs a tactic's code"))
        if kind not in _CHECKED:
            continue
        for x, built in _names(inside) if kind == "add" else ((x, False) for x in inside):
            if x.is_word and x.text not in _NOT_NAMES and not built and _own(name_parts(x.text), declared):
                why = "names a declaration of the file's own: aesop would run it as a tactic rule or evaluate it"
                out.append(Flag(f"{tactic} ({kind} {x.text})", x.line, why))
    return out


def aesop_phases(tokens: list[LeanToken]) -> set[int]:
    """The offsets of the word ``unsafe`` where it is a rule's phase (``aesop (add unsafe 50% foo)``), not a term."""
    phases = set()
    for _, kind, inside in _clauses(tokens):
        if kind in ("add", "erase"):
            depth = 0
            for x in inside:
                depth += (x.text == "(") - (x.text == ")")
                if depth == 0 and x.text == "unsafe":
                    phases.add(x.start)
    return phases


def _clauses(tokens: list[LeanToken]) -> list[tuple[str, str, list[LeanToken]]]:
    """Each clause right after an aesop-like tactic: (the tactic, the clause's keyword, the tokens after it)."""
    found = []
    for i, t in enumerate(tokens):
        if not (t.text in _CLAUSE_TACTICS or t.text.startswith("aesop_")):
            continue
        j = i + 1
        while j + 1 < len(tokens) and tokens[j].text == "(" and tokens[j + 1].text in _CLAUSES:
            end = _closing(tokens, j)
            found.append((t.text, tokens[j + 1].text, tokens[j + 1 : end]))
            j = end + 1
    return found


def _names(inside: list[LeanToken]) -> list[tuple[LeanToken, bool]]:
    """The tokens of an ``add`` clause, each with whether its rule's branch names a builder that runs no code.

    A rule expression is features in a row, branching at ``[a, b]``; a builder named on a branch holds for
    what follows it there. ``apply``, ``simp``, ``unfold``, ``forward``, ``destruct``, ``cases`` and
    ``constructors`` use a declaration as a term or its equations; ``default`` may make it a tactic rule.
    """
    out, stack, built, depth = [], [False], False, 0
    for x in inside[1:]:  # after the `add`
        depth += (x.text == "(") - (x.text == ")")
        if depth == 0 and x.text == "[":
            stack.append(built)
        elif depth == 0 and x.text == "]" and len(stack) > 1:
            built = stack.pop()
        elif depth == 0 and x.text == ",":
            built = stack[-1]
        elif depth == 0 and x.text in _NO_CODE_BUILDERS:
            built = True
        elif depth == 0 and x.text in ("default", "tactic"):
            built = False
        out.append((x, built))
    return out


def _closing(tokens: list[LeanToken], j: int) -> int:
    """The index of the bracket closing the one at ``tokens[j]`` (the last token if none does)."""
    depth = 0
    for k in range(j, len(tokens)):
        depth += (tokens[k].text in "([{⟨⦃") - (tokens[k].text in ")]}⟩⦄")
        if depth == 0:
            return k
    return len(tokens) - 1


def _own(parts: list[str], declared: dict[str, bool]) -> bool:
    """Whether a name in a clause may mean code the file declares (its last component is declared, not as a theorem)."""
    parts = [p for p in parts if p != "_root_"]
    return bool(parts) and declared.get(parts[-1]) is False


def _declared(tokens: list[LeanToken], text: str) -> dict[str, bool]:
    """The last component of each name the file declares: True if only theorems have it.

    Also what a ``where`` block or ``let rec`` declares inside a definition or theorem (``t.aux`` is a
    definition, whatever ``t`` is); the ``where`` of a structure, class, inductive or instance lists fields,
    whose projections take the structure as an argument and so are never a tactic.
    """
    found: dict[str, bool] = {}
    last = ""  # the last declaration keyword
    aux_column: int | None = None  # the column of a `where` block's declarations
    for i, t in enumerate(tokens):
        column = t.start - text.rfind("\n", 0, t.start) - 1
        first_on_line = i == 0 or tokens[i - 1].line != t.line
        if first_on_line and aux_column is not None and column != aux_column:
            aux_column = None if column < aux_column else aux_column
        keyword = next((w for w in _DECLARING | _AUX if is_keyword(tokens, i, text, w)), None)
        if keyword == "where" and last in _FIELDS:
            continue
        at_aux = first_on_line and column == aux_column and t.is_word and keyword is None
        if not (keyword or at_aux) or i + 1 >= len(tokens):
            continue
        named = t if at_aux else tokens[i + 1]
        if keyword in _DECLARING:
            last = keyword
        elif keyword == "where":
            aux_column = named.start - text.rfind("\n", 0, named.start) - 1
        if named.is_word and (parts := name_parts(named.text)):
            found[parts[-1]] = found.get(parts[-1], True) and keyword in _THEOREMS
    return found
