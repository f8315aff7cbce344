"""Static vetting of HOL Light proof text, before it reaches a checker.

A proof is one OCaml expression of type ``tactic``. The text is tokenized
the way OCaml with HOL Light's syntax extension reads it (nested comments
with strings inside them, string and quoted-string literals, character
literals, backquoted term quotations), so that a forbidden name hidden in a
comment is not flagged and one outside a comment is never missed.

This is the first of three layers. The check server re-checks the theorem
after the proof (conclusion, hypotheses, axioms), and the container sandbox
bounds whatever gets past both.
"""

from __future__ import annotations

from dataclasses import dataclass

from provebench.core.model import Reason, Status, Verdict
from provebench.systems.hol_light.ocaml_lexer import LexicalError, Token, TokenKind, check_brackets, tokenize


@dataclass(frozen=True)
class Violation:
    """A broken integrity rule, named, with where it happened."""

    rule: str
    token: str
    line: int
    column: int

    def message(self) -> str:
        """One line for the verdict's messages."""
        return f"rule {self.rule}: `{self.token}` at line {self.line}, column {self.column}"


# Keywords that declare modules, objects or C primitives: never needed in a tactic.
FORBIDDEN_KEYWORDS = frozenset(
    "class external functor include inherit initializer method module object open private sig struct virtual".split()
)

# Modules a proof may name. Anything else (Obj, Sys, Unix, Marshal, Stdlib,
# Format, Toploop, Gc, Hashtbl, ...) can forge, do I/O or mutate shared state,
# so it is refused. Printf only formats and prints to the check's own output,
# which cannot carry a verdict (replies are framed with a nonce per request),
# and Array's arrays are the proof's own; s2n-bignum's reference proofs use both
# (Printf.sprintf, Printf.printf, Array.init).
ALLOWED_MODULES = frozenset({"List", "String", "Char", "Int", "Bool", "Option", "Num", "Array", "Printf"})

# Names that forge theorems, extend the logic or mutate global state.
FORBIDDEN_NAMES = frozenset(
    {
        "mk_thm",
        "new_axiom",
        "axioms",  # admitted theorems of a template are axioms: the list would hand them out
        "CHEAT_TAC",
        "define",
        "exit",
        "at_exit",
        "incr",
        "decr",
        "ignore_constant_varstruct",
        "hide_constant",
        "unhide_constant",
        "parse_as_infix",
        "parse_as_prefix",
        "parse_as_binder",
        "unparse_as_infix",
        "unparse_as_prefix",
        "unparse_as_binder",
        "overload_interface",
        "override_interface",
        "make_overloadable",
        "reduce_interface",
        "remove_interface",
        "install_parser",
        "delete_parser",
        "install_user_printer",
        "delete_user_printer",
        "reverse_interface_mapping",
        "type_abbrevs",
        "extend_basic_rewrites",
        "extend_basic_convs",
        "extend_basic_congs",
        "typify_universal_set",
        "loads",
        "loadt",
        "needs",
        "load_path",
        "loaded_files",
        "use_file",
        "file_loader",
        "hol_dir",
        "temp_path",
        "report",
        "warn",
        "remark",
        "current_goalstack",
        "search",
        "help",
        # Standard input is the check server's request channel.
        "read_line",
        "read_int",
        "read_int_opt",
        "read_float",
        "read_float_opt",
        # Files, by name (HOL Light's library).
        "file_of_string",
        "string_of_file",
        "strings_of_file",
        "read_whole_file",
        # Global settings of the rewriter, the goal stack and the loader.
        "set_basic_rewrites",
        "set_basic_convs",
        "set_basic_congs",
        "set_simp_rewrites",
        "set_goal",
        "set_fast_load",
        "set_slow_load",
    }
)

# Prefixes of names in the same families: new_definition, new_type, the_axioms,
# the_interface, print_*, prerr_*, open_in, input_line ... Not read_ and set_:
# s2n-bignum names its own definitions so (read_REX_prefix, set_key_schedule),
# so the standard library's and HOL Light's few are named above instead.
FORBIDDEN_PREFIXES = (
    "new_",
    "the_",
    "print",
    "prerr",
    "pp_",
    "output",
    "open_",
    "close_",
    "input",
    "really_",
    "prioritize_",
    "pb_",
    "provebench",
)

# Prefixes whose names a proof may bind for itself (s2n-bignum's reference
# proofs say `let new_facts = ... in`). Never the check server's own names.
_BINDABLE_PREFIXES = tuple(p for p in FORBIDDEN_PREFIXES if p not in ("pb_", "provebench"))
_BINDERS = frozenset({"let", "rec", "and", "fun"})

ASSIGNMENT_OPERATORS = frozenset({":=", "<-"})


def own_bindings(tokens: list[Token]) -> list[str]:
    """Names of the refused families that the proof binds itself, right after ``let``, ``rec``, ``and`` or ``fun``.

    Such a name is let through only because the check wraps the proof in
    ``shield_own_bindings``: wherever the proof's own binding does not reach, the
    name means ``()``, never HOL Light's function of that name. So no scoping
    has to be worked out here, and a proof that binds ``new_definition`` in one
    place cannot call the real one in another.
    """
    names: list[str] = []
    for before, tok in zip(tokens, tokens[1:], strict=False):
        if (
            before.kind is TokenKind.KEYWORD
            and before.text in _BINDERS
            and tok.kind is TokenKind.IDENT
            and tok.text.startswith(_BINDABLE_PREFIXES)
            and tok.text not in FORBIDDEN_NAMES
            and "unsafe" not in tok.text
            and tok.text not in names
        ):
            names.append(tok.text)
    return names


def shield_own_bindings(proof: str) -> str:
    """The text to check: the proof, with the names of ``own_bindings`` bound to ``()`` around it.

    ``(fun new_facts -> (PROOF)) ()`` means PROOF wherever the proof binds
    ``new_facts`` itself, and a unit value elsewhere. The wrapper goes on the
    proof's first line, so HOL Light's messages keep their line numbers (columns
    on the first line move by the wrapper's width).
    """
    names = own_bindings(tokenize(proof))
    if not names:
        return proof
    return f"(fun {' '.join(names)} -> ({proof}\n)){' ()' * len(names)}"


def _name_violation(tok: Token, member: bool, own: frozenset[str]) -> str | None:
    """Whether a name is refused; a ``member`` of an allowed module (Printf.printf) only if unsafe."""
    name = tok.text
    if "unsafe" in name:
        return "forbidden-name"
    if member or name in own:
        return None
    if name in FORBIDDEN_NAMES or name.startswith(FORBIDDEN_PREFIXES):
        return "forbidden-name"
    return None


def _is_member(tokens: list[Token], index: int) -> bool:
    """Whether ``tokens[index]`` is written right after ``Module.`` of an allowed module."""
    if index < 2:
        return False
    dot, module = tokens[index - 1], tokens[index - 2]
    return (
        dot.kind is TokenKind.SYMBOL
        and dot.text == "."
        and module.kind is TokenKind.IDENT
        and module.text in ALLOWED_MODULES
        and module.line == dot.line == tokens[index].line
        and dot.column == module.column + len(module.text)
        and tokens[index].column == dot.column + 1
    )


def find_violations(tokens: list[Token]) -> list[Violation]:
    """Every integrity rule the token stream breaks, in text order.

    The names of ``own_bindings`` are not refused: that is sound only because
    what a checker is sent is ``shield_own_bindings`` of the proof.
    """
    found: list[Violation] = []
    own = frozenset(own_bindings(tokens))

    def add(rule: str, tok: Token) -> None:
        found.append(Violation(rule, tok.text, tok.line, tok.column))

    for index, tok in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if tok.kind is TokenKind.SYMBOL:
            if tok.text == ";;":
                add("phrase-terminator", tok)
            elif "#" in tok.text:
                add("toplevel-directive", tok)
            elif tok.text in ASSIGNMENT_OPERATORS:
                add("assignment", tok)
            elif tok.text.startswith(("<:", "<<")):
                add("camlp5-quotation", tok)
        elif tok.kind is TokenKind.KEYWORD and tok.text in FORBIDDEN_KEYWORDS:
            add("forbidden-keyword", tok)
        elif tok.kind is TokenKind.IDENT:
            is_module_path = (
                tok.text[0].isupper()
                and following is not None
                and following.kind is TokenKind.SYMBOL
                and following.text.startswith(".")
                and following.line == tok.line
                and following.column == tok.column + len(tok.text)
            )
            if is_module_path and tok.text not in ALLOWED_MODULES:
                add("forbidden-module", tok)
            elif (rule := _name_violation(tok, _is_member(tokens, index), own)) is not None:
                add(rule, tok)
    return found


_ALLOWED_CONTROL = frozenset("\t\n\r\f")


def vet_proof(proof: str, max_bytes: int) -> Verdict | None:
    """The verdict for a proof refused before any checker sees it, or None."""

    def refuse(status: Status, reason: Reason, *messages: str) -> Verdict:
        return Verdict(status=status, reason=reason, messages=messages)

    if not proof.strip():
        return refuse(Status.FAIL, Reason.NO_PROOF, "the proof is empty")
    size = len(proof.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        return refuse(Status.FAIL, Reason.TOO_LARGE, f"the proof has {size} bytes; the limit is {max_bytes}")
    bad = next((c for c in proof if (ord(c) < 32 and c not in _ALLOWED_CONTROL) or ord(c) == 127), None)
    if bad is not None or any(0xD800 <= ord(c) <= 0xDFFF for c in proof):
        return refuse(Status.FAIL, Reason.INVALID_TEXT, "the proof contains binary or control characters")
    try:
        tokens = tokenize(proof)
    except LexicalError as exc:
        return refuse(Status.FAIL, Reason.COMPILE_ERROR, str(exc))
    if not tokens:
        return refuse(Status.FAIL, Reason.NO_PROOF, "the proof has only comments")
    # Broken rules first: an injection attempt is CHEATING even when it also unbalances brackets.
    violations = find_violations(tokens)
    if violations:
        return refuse(Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT, *(v.message() for v in violations))
    try:
        check_brackets(tokens)
    except LexicalError as exc:
        return refuse(Status.FAIL, Reason.COMPILE_ERROR, str(exc))
    return None
