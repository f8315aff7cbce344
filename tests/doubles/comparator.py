"""TEST DOUBLE of Lean FRO's comparator (leanprover/comparator, branch pre-v25 = 97ef939, for Lean v4.24.0).

Run as the real one is, from a Lake project directory holding the two modules named by the config::

    python tests/doubles/comparator.py config.json

What it does, in comparator's order (Main.lean ``compareIt``, Comparator/Compare.lean, Comparator/Axioms.lean):

1. Reads the config as comparator's derived ``FromJson Config`` does: ``challenge_module``,
   ``solution_module`` (strings), ``theorem_names``, ``permitted_axioms`` (arrays of strings),
   ``enable_nanoda`` (a boolean: required on pre-v25), ``definition_names`` (optional array). A missing
   or mistyped field fails with ``Comparator.Config.<field>: <reason>`` (the reason worded as Lean's Json
   instances word it, read from Lean sources not pinned to v4.24.0; a JSON syntax error's text is the double's).
2. "Builds" and "exports" each module (``<module>.lean``, dots as folders), printing comparator's
   ``Building <module>`` and ``Exporting #[<targets>] from <module>``. The export targets are comparator's:
   the nanoda built-ins when ``enable_nanoda``, then the theorem names, the permitted axioms, the kernel's
   primitive ``Nat`` operations and the definition names.
3. Compares, as ``compareAt`` does: each theorem (and permitted axiom) must have the same kind (theorem or
   axiom) and the same statement in both; each definition hole must be a ``def`` in both with the same
   type and safety (its body is free); then every constant the statements use, and the constants those
   use, must be identical in both (the kernel's primitives included).
4. Checks axioms, as ``checkAxioms`` does: each theorem name must be a theorem in the solution, each
   definition name a definition; an axiom the solution's theorems or definitions use that is not
   permitted is ``Illegal axiom detected: '<name>'``.
5. Prints ``Running Lean default kernel on solution.``, ``Lean default kernel accepts the solution`` and
   ``Your solution is okay!``, and exits 0.

Any failure is thrown, as in comparator: its text goes to stderr as Lean's runtime prints an uncaught
exception of ``main`` (``uncaught exception: <text>``) and the exit code is 1. The texts are comparator's:
``Const not found in challenge: '<n>'``, ``Const not found in solution: '<n>'``,
``Challenge and solution constant kind don't match: '<n>'``,
``Challenge and solution theorem statement do not match: '<n>'``,
``Challenge constant is not a definition: '<n>'``, ``Solution constant is not a definition: '<n>'``,
``Const does not match between challenge and target '<n>'``,
``Const not found in challenge '<n>'`` and ``Const not found in solution '<n>'`` (no colon: a used constant),
``Solution constant is not a theorem: '<n>'``, ``Illegal axiom detected: '<n>'``,
``Child exited with 1`` (the sandboxed ``lake build`` failed) and
``process 'landrun' exited with code 134`` (the sandboxed ``lean4export`` aborted: it panics, and
``LEAN_ABORT_ON_PANIC=1`` makes that an abort, when a target is not in the module, e.g. a theorem the
solution does not declare under that name).

What it cannot do is run Lean. It reads declaration TEXT: it splits each file into top-level commands (a
command keyword at column 0, or an indented declaration or scope keyword), drops comments, collapses whitespace,
and keeps for each declaration (``theorem``; ``lemma``, a theorem; ``def``; ``abbrev``, a def; ``instance``, a
def; ``opaque``; ``partial def``, an opaque; ``axiom``; ``structure``, ``class`` and ``inductive``, inductives)
its header (signature) and body.
``namespace``/``section``/``end`` give declarations their full names (``namespace X`` ... ``theorem t`` is
``X.t``, and a namespace left open runs to the end of the file). Compared as text, therefore:

* a statement matches only if its header text is the same, its names mean the same declarations of the
  file (or, declared in neither, the library's), and its elaboration context is the same: the
  ``open``, ``variable``, ``universe``, ``set_option``, notation/macro/syntax/elab, ``attribute`` and
  metaprogram (``run_cmd``, ``run_elab``, ``#eval``, ...) commands and the instances in force where it is declared. A
  solution that adds any of these before a theorem fails that theorem's statement here even where Lean
  would elaborate it to the same term; renaming a bound variable or changing a binder's brackets (which
  comparator accepts: it compares terms up to alpha-equivalence, binder annotations ignored) fails here.
* it cannot tell which constants an elaborated term uses: a name used in a text counts as used, and beyond
  that, conservatively, every non-theorem declaration of the challenge counts as used by the statements
  (so it must be in the solution, identical) and every declaration of the solution counts as used by its
  theorems (so an axiom, ``sorry``/``admit``/``stop`` (``sorryAx``), ``native_decide``/``decide +native``/
  ``bv_decide`` (``Lean.ofReduceBool``) in a solution helper fails here even where nothing uses it).
  Axioms a tactic uses unnamed (``propext``, ``Classical.choice``, ``Quot.sound`` from ``simp``, ...) are
  invisible to it.
* a name a file does not declare is taken for a library constant, the same in both files; a file may
  not redeclare the kernel primitives or the library axioms it knows without ``prelude`` (the build
  fails, as Lean's "already declared" would), and with ``prelude`` its own versions differ from the
  library's. ``private`` names carry their module (``_private.<Module>.0.<name>``), so a statement using a
  private constant never matches.
* the kernel replay is not done: a proof that does not prove its statement, or a term the kernel would
  reject, passes here (comparator's ``olean_issue`` fails here only because its ``run_elab`` is a context
  the challenge lacks). The only build failures it knows are a duplicate declaration, a redeclared library
  name, an ``end`` that does not close the innermost scope by its name, a missing module file and the
  marker below; the ``error:`` lines it prints for them are its own, not lake's. Elaboration errors of any
  other kind pass.

Scripted faults (markers in a module's text): ``-- double: error`` fails that module's build
(``Child exited with 1``); ``-- double: hang`` makes its build never end (for timeout tests).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

# Main.lean `primitiveTargets`: the kernel's built-in Nat operations, compared between challenge and solution.
PRIMITIVES = (
    "Nat.add",
    "Nat.sub",
    "Nat.mul",
    "Nat.pow",
    "Nat.gcd",
    "Nat.div",
    "Nat.mod",
    "Nat.beq",
    "Nat.ble",
    "Nat.land",
    "Nat.lor",
    "Nat.xor",
    "Nat.shiftLeft",
    "Nat.shiftRight",
)
# Main.lean `builtinTargets` (exported first when nanoda is enabled).
NANODA_BUILTINS = ("Nat", "String", "String.mk", "Char", "Char.ofNat", "List")
NANODA_QUOT = ("Quot", "Quot.mk", "Quot.lift", "Quot.ind")
# Axioms of Lean's Init that a text can name or invoke.
LIBRARY_AXIOMS = frozenset(
    {
        "propext",
        "Quot.sound",
        "Classical.choice",
        "sorryAx",
        "Lean.ofReduceBool",
        "Lean.ofReduceNat",
        "Lean.trustCompiler",
    }
)
KNOWN_LIBRARY = frozenset(PRIMITIVES) | LIBRARY_AXIOMS
# Tactics and terms whose proofs use an axiom without naming it.
AXIOM_TRIGGERS = (
    (re.compile(r"(?<![\w.'])(?:sorry|admit|stop)(?![\w'!?])"), "sorryAx"),
    (re.compile(r"(?<![\w.'])(?:native_decide|bv_decide)(?![\w'!?])"), "Lean.ofReduceBool"),
    (re.compile(r"(?<![\w.'])decide\s*\+native\b"), "Lean.ofReduceBool"),
    (re.compile(r"(?<![\w.'])decide\s*\(\s*config\s*:=\s*\{[^}]*native\s*:=\s*true"), "Lean.ofReduceBool"),
)
# lean4export panics on a target the module lacks ("Constant <n> not found in environment."); with
# LEAN_ABORT_ON_PANIC=1 the runtime aborts (SIGABRT); landrun exec's its command, so comparator's Child.wait
# sees the signal and reports 128 + 6; IO.Process.run (stdout and stderr captured) throws this text.
EXPORT_ABORTED = "process 'landrun' exited with code 134"
BUILD_FAILED = "Child exited with 1"

COMMAND = re.compile(
    r"(?:@\[|private\b|protected\b|noncomputable\b|partial\b|unsafe\b|nonrec\b|local\b|scoped\b|theorem\b|lemma\b"
    r"|def\b|abbrev\b|instance\b|structure\b|inductive\b|class\b|axiom\b|opaque\b|example\b|namespace\b|section\b"
    r"|end\b|mutual\b|open\b|export\b|variable\b|universe\b|set_option\b|import\b|prelude\b|notation\b|infixl?\b"
    r"|infixr\b|prefix\b|postfix\b|macro_rules\b|macro\b|syntax\b|elab_rules\b|elab\b|attribute\b|deriving\b"
    r"|declare_syntax_cat\b|run_cmd\b|run_elab\b|run_meta\b|initialize\b|builtin_initialize\b|include\b|omit\b|#)"
)
# Indented, only what cannot begin a line of a proof or a declaration's body (not `open ... in`, `set_option ... in`,
# `deriving`): a split inside a proof would hide the rest of it.
INDENTED_COMMAND = re.compile(
    r"[ \t]+(?:@\[|private\b|protected\b|noncomputable\b|partial\b|unsafe\b|nonrec\b|theorem\b|lemma\b|def\b"
    r"|abbrev\b|instance\b|structure\b|inductive\b|class\b|axiom\b|opaque\b|example\b|namespace\b|section\b"
    r"|end\b|mutual\b|variable\b|universe\b)"
)
MODIFIER = re.compile(
    r"\s*(?:@\[(?P<attrs>(?:[^\[\]]|\[[^\]]*\])*)\]|(?P<word>private|protected|noncomputable|partial|unsafe|nonrec"
    r"|local|scoped)\b)"
)
MODIFIERS_ONLY = re.compile(
    r"(?:\s*(?:@\[(?:[^\[\]]|\[[^\]]*\])*\]|(?:private|protected|noncomputable|partial|unsafe|nonrec|local|scoped)\b))*\s*"
)
OPEN_IN = re.compile(r"\s*(?:open|set_option)\b.*\bin\s*$", re.DOTALL)
PREFIX_IN = re.compile(r"\s*(?P<item>(?:open|set_option)\b.*?)\s+in\b", re.DOTALL)
DECL = re.compile(
    r"(?P<kw>theorem|lemma|def|abbrev|instance|structure|inductive|class\s+inductive|class|axiom|opaque|example)\b"
)
NAME_PART = r"(?:«[^»]+»|[^\s:(){}\[\]⦃⦄⟨⟩,.«@]+)"
NAME = re.compile(rf"\s*(?P<name>{NAME_PART}(?:\.{NAME_PART})*)")
IDENT = re.compile(r"«[^»]+»(?:\.«[^»]+»)*|[^\W\d][\w'!?₀-₉]*(?:\.[^\W\d][\w'!?₀-₉]*)*")
# Context commands whose effect outlives the section they are in (unless `local`/`scoped`).
GLOBAL_CONTEXT = re.compile(
    r"(?:notation|infixl?|infixr|prefix|postfix|macro_rules|macro|syntax|elab_rules|elab|attribute|deriving"
    r"|declare_syntax_cat|run_cmd|run_elab|run_meta|initialize|builtin_initialize)\b"
)
SCOPED_CONTEXT = re.compile(r"(?:open|export|variable|universe|set_option|include|omit)\b")
# Options that only bound the elaborator's effort: they cannot change what a statement means.
HARMLESS_OPTION = re.compile(r"set_option\s+(?:maxHeartbeats|maxRecDepth|synthInstance\.maxHeartbeats|linter\.\S+)\s")
CONTEXT_ATTRIBUTES = frozenset({"instance", "default_instance", "coe", "macro", "term_elab", "command_elab"})


class Thrown(Exception):
    """An error comparator throws: ``main`` ends with it, as an uncaught exception (exit code 1)."""


@dataclass(frozen=True)
class Decl:
    """One declaration of a module, as text."""

    kind: str  # theorem, def, opaque, axiom or inductive: the kind of its constant
    name: str  # the constant's name
    header: str  # universe parameters, binders and type (for an inductive: its parameters and type)
    body: str  # value or proof; an inductive's constructors; empty for an axiom
    context: tuple[str, ...]  # the elaboration context it was declared in
    hints: str = "regular"  # abbrev for an abbrev (comparator compares reducibility hints too)
    safety: str = "safe"  # safe, unsafe or partial
    ctors: tuple[tuple[str, str], ...] = ()  # an inductive's constructors: (name, text)
    header_refs: tuple[str, ...] = ()  # names of this module's declarations its header uses
    body_refs: tuple[str, ...] = ()  # ... and its body uses
    axioms: tuple[str, ...] = ()  # library axioms its text names or invokes (sorry: sorryAx, ...)
    private_refs: bool = False  # its header uses a private constant


@dataclass
class Module:
    """A module's declarations by constant name, with what the double can tell of its build."""

    name: str
    decls: dict[str, Decl] = field(default_factory=dict)
    build_errors: list[str] = field(default_factory=list)
    prelude: bool = False
    hang: bool = False

    def declares(self, name: str) -> bool:
        return name in self.decls

    def exported(self, name: str) -> Decl | None:
        """The constant as lean4export writes it: unsafe constants are left out (no --export-unsafe)."""
        d = self.decls.get(name)
        return None if d is None or d.safety == "unsafe" else d


# ----- text -----------------------------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Drop ``--`` and (nested) ``/- -/`` comments, docstrings included; string literals and newlines stay."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/-", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/-", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("-/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
            out.append(" ")
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mask_strings(text: str) -> str:
    """The text with each string literal's content blanked (same length), for scanning."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)


def squeeze(text: str) -> str:
    """Whitespace collapsed, and none just inside brackets."""
    text = " ".join(text.split())
    text = re.sub(r"([(\[{⦃⟨])\s+", r"\1", text)
    return re.sub(r"\s+([)\]}⦄⟩])", r"\1", text)


def plain_name(name: str) -> str:
    return name.replace("«", "").replace("»", "").removeprefix("_root_.")


def lean_name(name: str) -> str:
    """A name as Lean's ``Name.toString`` prints it: components that are not identifiers in «»."""
    parts = name.split(".")
    return ".".join(p if re.fullmatch(r"[^\W\d][\w'!?₀-₉]*", p) else f"«{p}»" for p in parts)


def top_level_stop(masked: str, start: int, stops: tuple[str, ...]) -> int:
    """The index of the first of ``stops`` (":=", "where", "|", "\\n|") outside brackets, or len(masked)."""
    depth = 0
    i = start
    while i < len(masked):
        c = masked[i]
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(0, depth - 1)
        elif depth == 0:
            if ":=" in stops and masked.startswith(":=", i):
                return i
            if (
                "where" in stops
                and masked.startswith("where", i)
                and not _ident(masked[i - 1 : i] + masked[i + 5 : i + 6])
            ):
                return i
            if "|" in stops and c == "|":
                return i
            if "\n|" in stops and c == "\n" and re.match(r"\n[ \t]*\|", masked[i:]):
                return i
        i += 1
    return len(masked)


def _ident(chars: str) -> bool:
    return any(c.isalnum() or c in "_'!?." for c in chars)


# ----- modules --------------------------------------------------------------------------------------------


def commands(text: str) -> Iterator[tuple[int, str]]:
    """Top-level commands: each starts with a command keyword at column 0 (or with a declaration or scope keyword,
    indented); an attribute or modifier line, or an ``open X in`` line, joins the command below it."""
    chunk: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), 1):
        begins = COMMAND.match(line) is not None or INDENTED_COMMAND.match(line) is not None
        pending = "\n".join(chunk)
        joins = MODIFIERS_ONLY.fullmatch(pending) is not None or OPEN_IN.match(pending) is not None
        if begins and chunk and not joins:
            yield start, "\n".join(chunk)
            chunk = []
        if begins and not chunk:
            start = number
        if chunk or begins:
            chunk.append(line)
    if chunk:
        yield start, "\n".join(chunk)


@dataclass
class _Scope:
    components: list[str]  # what it adds to the names declared in it
    name: str = ""  # what its `end` must name
    items: list[str] = field(default_factory=list)


def parse_module(text: str, module: str) -> Module:
    """The declarations of a module's text (see the module docstring for what is kept)."""
    mod = Module(module)
    mod.hang = "-- double: hang" in text
    if "-- double: error" in text:
        mod.build_errors.append(f"{module}.lean: error (the '-- double: error' marker)")
    clean = strip_comments(text)
    scopes = [_Scope([])]
    global_items: list[str] = []
    raw: list[tuple[Decl, list[str], list[str], str, str]] = []  # decl, namespaces, opens, header, body
    for line, chunk in commands(clean):
        rest = chunk.strip()
        local_items: list[str] = []
        attrs: list[str] = []
        words: set[str] = set()
        while True:
            if (m := PREFIX_IN.match(rest)) is not None and "\n" not in m.group("item").strip():
                if not HARMLESS_OPTION.match(m.group("item") + " "):
                    local_items.append(squeeze(m.group("item")))
                rest = rest[m.end() :].lstrip()
            elif (m := MODIFIER.match(rest)) is not None:
                if m.group("attrs") is not None:
                    attrs.append(m.group("attrs"))
                else:
                    words.add(m.group("word"))
                rest = rest[m.end() :].lstrip()
            else:
                break
        item = squeeze(rest)
        if rest.startswith("#exit"):
            break
        if (m := re.match(r"section\b[ \t]*(\S*)", rest)) is not None:  # `noncomputable section` too
            scopes.append(_Scope([], plain_name(m.group(1))))
            continue
        if (m := re.match(r"namespace\s+(\S+)", rest)) is not None:
            scopes += [_Scope([c], c) for c in plain_name(m.group(1)).split(".")]  # a scope for each, as Lean
            continue
        if re.match(r"mutual\b", rest):
            scopes.append(_Scope([]))
            continue
        if (m := re.match(r"end\b[ \t]*(\S*)", rest)) is not None:
            if (error := _end(scopes, plain_name(m.group(1)))) is not None:
                mod.build_errors.append(f"{module}.lean:{line}: invalid 'end', {error}")
            continue
        if rest.startswith("prelude"):
            mod.prelude = True
            continue
        if rest.startswith("#eval"):  # it can run any metaprogram
            global_items.append(item)
            continue
        if rest.startswith("import") or rest.startswith("#"):
            continue
        if SCOPED_CONTEXT.match(rest):
            if not HARMLESS_OPTION.match(rest + " "):
                scopes[-1].items.append(item)
            continue
        if GLOBAL_CONTEXT.match(rest):
            if "local" in words or "scoped" in words:
                scopes[-1].items.append(" ".join(sorted(words)) + " " + item)
            else:
                global_items.append(item)
            continue
        d = DECL.match(rest)
        if d is None or d.group("kw") == "example":
            continue
        namespaces = [c for s in scopes for c in s.components]
        opens = [o for s in scopes for i in s.items for o in _opened(i)] + [o for i in local_items for o in _opened(i)]
        context = tuple(global_items) + tuple(i for s in scopes for i in s.items) + tuple(local_items)
        decl, header, body = _declaration(d.group("kw"), rest[d.end() :], namespaces, words, context)
        if not decl.name:  # an anonymous instance: Lean names it, `_1`, `_2`, ... after the first of a name
            base = ".".join([*namespaces, instance_name(header)])
            taken = sum(1 for n in mod.decls if n == base or re.fullmatch(re.escape(base) + r"_\d+", n))
            decl = replace(decl, name=f"{base}_{taken}" if taken else base)
        if "private" in words:
            decl = replace(decl, name=f"_private.{module}.0.{decl.name}")
        if decl.name in mod.decls:
            mod.build_errors.append(f"{module}.lean:{line}: '{decl.name}' has already been declared")
            continue
        if decl.name in KNOWN_LIBRARY and not mod.prelude:
            mod.build_errors.append(f"{module}.lean:{line}: '{decl.name}' has already been declared")
            continue
        mod.decls[decl.name] = decl
        raw.append((decl, namespaces, opens, header, body))
        is_instance = d.group("kw") == "instance" or any(
            a.strip().split()[0] in CONTEXT_ATTRIBUTES for attr in attrs for a in attr.split(",") if a.strip()
        )
        if is_instance:
            (scopes[-1].items if "local" in words or "scoped" in words else global_items).append(
                f"instance {decl.name}"
            )
    names = {d.name for d, *_ in raw}
    by_plain = {n.split(".0.", 1)[1] if n.startswith("_private.") else n: n for n in names}
    for decl, namespaces, opens, header, body in raw:
        header_refs = _resolve_all(header, namespaces, opens, by_plain)
        body_refs = _resolve_all(body, namespaces, opens, by_plain)
        axioms = tuple(sorted(_library_axioms(header + "\n" + body)))
        mod.decls[decl.name] = replace(
            decl,
            header_refs=tuple(r for r in header_refs if r != decl.name),
            body_refs=tuple(r for r in body_refs if r != decl.name),
            axioms=axioms,
            private_refs=any(r.startswith("_private.") for r in header_refs),
        )
    return mod


def _end(scopes: list[_Scope], name: str) -> str | None:
    """Close the scopes an ``end`` names (all of ``A.B``'s), or say why Lean would not."""
    parts = name.split(".") if name else [""]
    if len(scopes) == 1:
        return "insufficient scopes"
    if scopes[-1].name == name:
        del scopes[-1]
    elif len(scopes) - 1 >= len(parts) and [s.name for s in scopes[-len(parts) :]] == parts:
        del scopes[-len(parts) :]
    elif not name:
        return f"name is missing (expected {scopes[-1].name})"
    else:
        return f"name mismatch (expected {scopes[-1].name or 'nothing'})"
    return None


def _opened(item: str) -> list[str]:
    m = re.match(r"(?:open|export)\s+(.*)", item)
    if m is None:
        return []
    words = re.sub(r"\(.*?\)|\bin\b|hiding.*|renaming.*|scoped\b", " ", m.group(1)).split()
    return [plain_name(w) for w in words]


def _declaration(
    kw: str,
    rest: str,
    namespaces: list[str],
    words: set[str],
    context: tuple[str, ...],
) -> tuple[Decl, str, str]:
    """A declaration from its keyword and the text after it; also its raw header and body texts."""
    kw = " ".join(kw.split())
    if kw == "instance":
        rest = re.sub(r"^\s*\(priority\s*:=[^)]*\)", "", rest)
    m = NAME.match(rest)
    named = m is not None and not (kw == "instance" and rest.lstrip().startswith(("[", "{", "(", "⦃", ":")))
    if named and m is not None:
        written = m.group("name")
        rest = rest[m.end() :]
    else:
        written = ""
    masked = mask_strings(rest)
    if kw == "axiom":
        cut = len(rest)
    elif kw in ("inductive", "class inductive"):
        cut = top_level_stop(masked, 0, ("where", "|"))
    elif kw in ("structure", "class"):
        cut = top_level_stop(masked, 0, ("where", ":="))
    else:
        cut = top_level_stop(masked, 0, (":=", "where", "\n|"))
    header, body = rest[:cut], rest[cut:]
    if kw in ("structure", "class"):
        ext = top_level_stop(mask_strings(header), 0, ())
        ext_m = re.search(r"(?<![\w'.])extends\b", mask_strings(header))
        if ext_m is not None:
            ext = ext_m.start()
        header, body = header[:ext], header[ext:] + body
    if written:
        full = plain_name(written) if written.startswith("_root_.") else ".".join([*namespaces, plain_name(written)])
    else:
        full = ""
    kind = {
        "theorem": "theorem",
        "lemma": "theorem",
        "def": "def",
        "abbrev": "def",
        "instance": "def",
        "opaque": "opaque",
        "axiom": "axiom",
    }.get(kw, "inductive")
    safety = "unsafe" if "unsafe" in words else "partial" if "partial" in words else "safe"
    if kind == "def" and safety == "partial":
        kind = "opaque"  # a partial def is compiled to an opaque constant
    ctors: tuple[tuple[str, str], ...] = ()
    if kind == "inductive":
        ctors = _constructors(kw, squeeze(body))
    decl = Decl(
        kind=kind,
        name=full,
        header=squeeze(header),
        body=squeeze(body),
        context=context,
        hints="abbrev" if kw == "abbrev" else "regular",
        safety=safety,
        ctors=ctors,
    )
    return decl, header, body


def instance_name(header: str) -> str:
    """Roughly Lean's name for an anonymous instance: ``inst`` and the constants of its class, capitalized
    (``instance : Inhabited (List Nat)`` is ``instInhabitedListNat``)."""
    masked = mask_strings(header)
    bound: set[str] = set()
    depth, start, conclusion = 0, 0, ""
    for i, c in enumerate(masked):
        if c in "([{⦃⟨":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(0, depth - 1)
            if depth == 0 and ":" in masked[start:i]:
                bound.update(masked[start:i].split(":", 1)[0].split())
        elif c == ":" and depth == 0:
            conclusion = masked[i + 1 :]
            break
    parts = [t.split(".")[-1] for t in IDENT.findall(conclusion) if t not in bound]
    return "inst" + "".join(p[:1].upper() + p[1:] for p in parts)


def _constructors(kw: str, body: str) -> tuple[tuple[str, str], ...]:
    if kw in ("structure", "class"):
        fields = re.sub(r"^(?:extends\b.*?)?(?:where|:=)\s*", "", body, count=1)
        m = re.match(r"(\S+)\s*::", fields)
        return ((m.group(1) if m else "mk", body),)
    masked = mask_strings(body)
    alts: list[tuple[str, str]] = []
    depth, last = 0, None
    for i, c in enumerate(masked + "|"):
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(0, depth - 1)
        elif c == "|" and depth == 0:
            if last is not None:
                alt = body[last:i].strip()
                name = re.match(r"(?:protected\s+|private\s+)?(\S+)", alt)
                if name is not None:
                    alts.append((plain_name(name.group(1)), alt))
            last = i + 1
    return tuple(alts)


def _resolve_all(text: str, namespaces: list[str], opens: list[str], names: dict[str, str]) -> list[str]:
    found: list[str] = []
    for token in IDENT.findall(mask_strings(text)):
        r = _resolve(plain_name(token), namespaces, opens, names)
        if r is not None and r not in found:
            found.append(r)
    return found


def _resolve(token: str, namespaces: list[str], opens: list[str], names: dict[str, str]) -> str | None:
    """The declaration a name in the text means, as Lean would look it up (a trailing field access dropped)."""
    parts = token.split(".")
    for k in range(len(parts), 0, -1):
        head = ".".join(parts[:k])
        for i in range(len(namespaces), -1, -1):
            candidate = ".".join([*namespaces[:i], head])
            if candidate in names:
                return names[candidate]
        for o in opens:
            if f"{o}.{head}" in names:
                return names[f"{o}.{head}"]
    return None


def _library_axioms(text: str) -> set[str]:
    masked = mask_strings(text)
    found = {axiom for pattern, axiom in AXIOM_TRIGGERS if pattern.search(masked)}
    found |= {t for t in IDENT.findall(masked) if t in LIBRARY_AXIOMS}
    return found


# ----- comparator's steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """comparator's ``structure Config`` (pre-v25)."""

    challenge_module: str
    solution_module: str
    theorem_names: tuple[str, ...]
    definition_names: tuple[str, ...]
    permitted_axioms: tuple[str, ...]
    enable_nanoda: bool


def read_config(path: str) -> Config:
    """As ``Lean.Json.parse`` and the derived ``FromJson Config``: fields in order, the first bad one thrown."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Thrown(f"no such file or directory (error code: 2)\n  file: {path}") from exc
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise Thrown(f"offset {exc.pos}: {exc.msg}") from exc
    obj = data if isinstance(data, dict) else {}

    def field_of(name: str, kind: str, optional: bool = False) -> object:
        value = obj.get(name)
        prefix = f"Comparator.Config.{name}: "
        if value is None and optional:
            return ()
        if kind == "string":
            if not isinstance(value, str):
                raise Thrown(prefix + "String expected")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise Thrown(prefix + "Bool expected")
            return value
        if not isinstance(value, list):
            shown = "null" if value is None else json.dumps(value, separators=(",", ":"))
            raise Thrown(prefix + f"expected JSON array, got '{shown}'")
        if not all(isinstance(v, str) for v in value):
            raise Thrown(prefix + "String expected")
        return tuple(value)

    challenge = field_of("challenge_module", "string")
    solution = field_of("solution_module", "string")
    theorems = field_of("theorem_names", "array")
    definitions = field_of("definition_names", "array", optional=True)
    axioms = field_of("permitted_axioms", "array")
    nanoda = field_of("enable_nanoda", "bool")
    assert isinstance(challenge, str) and isinstance(solution, str) and isinstance(nanoda, bool)
    assert isinstance(theorems, tuple) and isinstance(definitions, tuple) and isinstance(axioms, tuple)
    return Config(challenge, solution, theorems, definitions, axioms, nanoda)


class Comparison:
    """comparator's run, on the two modules' texts."""

    def __init__(self, config: Config, challenge: Module, solution: Module) -> None:
        self.config = config
        self.challenge = challenge
        self.solution = solution
        self.permitted = set(config.permitted_axioms)

    # A constant as a module's export has it: its own declaration, or the library's (None: the export lacks it).
    def const(self, mod: Module, name: str) -> Decl | str | None:
        other = self.solution if mod is self.challenge else self.challenge
        if mod.declares(name):
            return mod.exported(name)
        if name in KNOWN_LIBRARY or not other.declares(name):
            return "library"
        return None

    def kind(self, c: Decl | str) -> str:
        if isinstance(c, Decl):
            return c.kind
        return "axiom"  # a library constant named as a target here is a permitted axiom or a primitive

    def export_targets(self) -> list[str]:
        targets: list[str] = []
        if self.config.enable_nanoda:
            targets += NANODA_BUILTINS
            if "Quot.sound" in self.permitted:
                targets += NANODA_QUOT
        return [
            *targets,
            *self.config.theorem_names,
            *self.config.permitted_axioms,
            *PRIMITIVES,
            *self.config.definition_names,
        ]

    def export(self, mod: Module) -> None:
        """lean4export panics (and aborts) on a target the module's environment lacks."""
        library = set(KNOWN_LIBRARY) | set(NANODA_BUILTINS) | set(NANODA_QUOT)
        other = self.solution if mod is self.challenge else self.challenge
        for name in self.export_targets():
            if mod.declares(name) or name in library:
                continue
            if name in self.permitted and not other.declares(name):
                continue  # taken for an axiom of the library
            raise Thrown(EXPORT_ABORTED)  # its panic text went to the captured, unshown stderr

    def same_statement(self, c: Decl | str, s: Decl | str) -> bool:
        if isinstance(c, str) or isinstance(s, str):
            return c == s
        if c.private_refs or s.private_refs:
            return False  # a private constant's name carries its module
        # The same text naming other constants (a solution's `X.k` shadowing `k` in namespace X) is another type.
        return (c.header, c.context, c.header_refs) == (s.header, s.context, s.header_refs)

    def compare_at(self) -> None:
        worklist: list[str] = list(PRIMITIVES)
        for target in (*self.config.theorem_names, *self.config.permitted_axioms):
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge: '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if not (self.kind(c) == self.kind(s) and self.kind(c) in ("theorem", "axiom")):
                raise Thrown(f"Challenge and solution constant kind don't match: '{target}'")
            if not self.same_statement(c, s):
                raise Thrown(f"Challenge and solution theorem statement do not match: '{target}'")
            if isinstance(c, Decl):
                worklist += c.header_refs
        for target in self.config.definition_names:
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge: '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if not isinstance(c, Decl) or c.kind != "def":
                raise Thrown(f"Challenge constant is not a definition: '{target}'")
            if not isinstance(s, Decl) or s.kind != "def":
                raise Thrown(f"Solution constant is not a definition: '{target}'")
            if not self.same_statement(c, s) or c.safety != s.safety:
                raise Thrown(f"Const does not match between challenge and target '{target}'")
            worklist.append(target)
        # The double's conservative part: every non-theorem declaration of the challenge counts as used.
        assumed = [n for n, d in self.challenge.decls.items() if d.kind != "theorem" and n not in worklist]
        self.loop([*reversed(assumed), *worklist])

    def loop(self, worklist: list[str]) -> None:
        holes = set(self.config.definition_names)
        checked: set[str] = set()
        while worklist:
            target = worklist.pop()
            if target in checked:
                continue
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution '{target}'")
            if target in holes and isinstance(s, Decl):
                worklist += [n for n in s.header_refs if n not in checked]
            else:
                if (mismatch := self.mismatch(target, c, s)) is not None:
                    raise Thrown(f"Const does not match between challenge and target '{mismatch}'")
                if isinstance(s, Decl):
                    worklist += [n for n in (*s.header_refs, *s.body_refs) if n not in checked]
            checked.add(target)

    def mismatch(self, target: str, c: Decl | str, s: Decl | str) -> str | None:
        """None if the two constants are identical; else the name comparator reports."""
        if isinstance(c, str) or isinstance(s, str):
            return None if c == s else target
        if c.kind == s.kind == "inductive" and (c.header, c.context) == (s.header, s.context) and c.body != s.body:
            if [n for n, _ in c.ctors] == [n for n, _ in s.ctors]:
                for (name, ct), (_, st) in zip(c.ctors, s.ctors, strict=True):
                    if ct != st:
                        return f"{target}.{name}"
            return target
        same = (c.kind, c.header, c.body, c.hints, c.safety, c.context, c.header_refs, c.body_refs) == (
            s.kind,
            s.header,
            s.body,
            s.hints,
            s.safety,
            s.context,
            s.header_refs,
            s.body_refs,
        )
        return None if same and not (c.private_refs or s.private_refs) else target

    def check_axioms(self) -> None:
        worklist: list[str] = []
        for target in self.config.theorem_names:
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if self.kind(s) != "theorem":
                raise Thrown(f"Solution constant is not a theorem: '{target}'")
            worklist.append(target)
        for target in self.config.definition_names:
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if self.kind(s) != "def":
                raise Thrown(f"Solution constant is not a definition: '{target}'")
            worklist.append(target)
        checked: set[str] = set()
        while worklist:
            target = worklist.pop()
            if target in checked:
                continue
            for used in self.used(target):
                self.validate(used)
                if used not in checked:
                    worklist.append(used)
            checked.add(target)
        # The double's conservative part: every declaration of the solution counts as used.
        for name, d in self.solution.decls.items():
            if d.safety == "unsafe":
                continue  # not exported: nothing comparator checks can use it
            for used in self.used(name):
                self.validate(used)

    def used(self, name: str) -> list[str]:
        """As comparator's ``runForUsedConsts``: the type's constants, the constant, the value's constants."""
        d = self.solution.decls.get(name)
        if d is None:
            return [name]
        return [*d.header_refs, name, *d.body_refs, *d.axioms]

    def validate(self, name: str) -> None:
        d = self.solution.decls.get(name)
        is_axiom = d.kind == "axiom" if d is not None else name in LIBRARY_AXIOMS
        if is_axiom and name not in self.permitted:
            raise Thrown(f"Illegal axiom detected: '{name}'")


def source(module: str) -> Path:
    return Path.cwd() / (module.replace(".", "/") + ".lean")


def read_module(module: str) -> Module | None:
    path = source(module)
    if not path.is_file():
        return None
    return parse_module(path.read_text(encoding="utf-8", errors="replace"), module)


def build(module: str, mod: Module | None) -> Module:
    """``lake build <module>`` in the sandbox: fails (exit 1) on what the double can see is an error."""
    print(f"Building {lean_name(module)}", flush=True)
    if mod is None:
        print(f"error: unknown target '{module}'", flush=True)
        raise Thrown(BUILD_FAILED)
    if mod.hang:
        while True:
            time.sleep(3600)
    if mod.build_errors:
        for error in mod.build_errors:
            print(f"error: {error}", flush=True)
        print("error: build failed", flush=True)
        raise Thrown(BUILD_FAILED)
    return mod


def run(config: Config) -> None:
    challenge = read_module(config.challenge_module)
    solution = read_module(config.solution_module)
    comparison = Comparison(
        config, challenge or Module(config.challenge_module), solution or Module(config.solution_module)
    )
    shown = "#[" + ", ".join(lean_name(t) for t in comparison.export_targets()) + "]"
    for module, mod in ((config.challenge_module, challenge), (config.solution_module, solution)):
        built = build(module, mod)
        print(f"Exporting {shown} from {lean_name(module)}", flush=True)
        comparison.export(built)
    comparison.compare_at()
    comparison.check_axioms()
    if config.enable_nanoda:
        print("Running nanoda kernel on solution", flush=True)
        print("Nanoda kernel accepts the solution", flush=True)
    print("Running Lean default kernel on solution.", flush=True)
    print("Lean default kernel accepts the solution", flush=True)
    print("Your solution is okay!", flush=True)


def main(argv: Iterable[str]) -> int:
    args = list(argv)
    try:
        if not args:
            raise Thrown("Expected config file path as first argument.")
        run(read_config(args[0]))
    except Thrown as exc:
        sys.stdout.flush()
        print(f"uncaught exception: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
