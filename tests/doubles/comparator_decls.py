"""The comparator double's reading of a Lean module's TEXT into declarations (tests/doubles/comparator.py).

It cannot run Lean. It splits a file into top-level commands (a command keyword at column 0, or an
indented declaration or scope keyword), drops comments, collapses whitespace, and keeps for each
declaration (``theorem``/``lemma``: a theorem; ``def``/``abbrev``/``instance``: a def; ``opaque`` and
``partial def``: an opaque; ``axiom``; ``structure``/``class``/``inductive``: an inductive) its header and
body, its elaboration context, the module's declarations it uses and the library axioms its text names
or invokes; ``namespace``/``section``/``end`` give full names (a namespace left open runs to the end).
What it sees wrong with a build (a duplicate or a redeclared library name, an ``end`` that does not
close the innermost scope by its name, the ``-- double: error`` marker) is kept for the double's build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a part of the double, run as a script (see comparator.py)
    from . import comparator_text as lean_text
else:
    import comparator_text as lean_text

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
# Context commands whose effect outlives the section they are in (unless `local`/`scoped`).
GLOBAL_CONTEXT = re.compile(
    r"(?:notation|infixl?|infixr|prefix|postfix|macro_rules|macro|syntax|elab_rules|elab|attribute|deriving"
    r"|declare_syntax_cat|run_cmd|run_elab|run_meta|initialize|builtin_initialize)\b"
)
SCOPED_CONTEXT = re.compile(r"(?:open|export|variable|universe|set_option|include|omit)\b")
# Options that only bound the elaborator's effort: they cannot change what a statement means.
HARMLESS_OPTION = re.compile(r"set_option\s+(?:maxHeartbeats|maxRecDepth|synthInstance\.maxHeartbeats|linter\.\S+)\s")
CONTEXT_ATTRIBUTES = frozenset({"instance", "default_instance", "coe", "macro", "term_elab", "command_elab"})


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
    clean = lean_text.strip_comments(text)
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
                    local_items.append(lean_text.squeeze(m.group("item")))
                rest = rest[m.end() :].lstrip()
            elif (m := MODIFIER.match(rest)) is not None:
                if m.group("attrs") is not None:
                    attrs.append(m.group("attrs"))
                else:
                    words.add(m.group("word"))
                rest = rest[m.end() :].lstrip()
            else:
                break
        item = lean_text.squeeze(rest)
        if rest.startswith("#exit"):
            break
        if (m := re.match(r"section\b[ \t]*(\S*)", rest)) is not None:  # `noncomputable section` too
            scopes.append(_Scope([], lean_text.plain_name(m.group(1))))
            continue
        if (m := re.match(r"namespace\s+(\S+)", rest)) is not None:
            scopes += [_Scope([c], c) for c in lean_text.plain_name(m.group(1)).split(".")]  # a scope for each, as Lean
            continue
        if re.match(r"mutual\b", rest):
            scopes.append(_Scope([]))
            continue
        if (m := re.match(r"end\b[ \t]*(\S*)", rest)) is not None:
            if (error := _end(scopes, lean_text.plain_name(m.group(1)))) is not None:
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
        opens = [o for s in scopes for i in s.items for o in lean_text.opened_names(i)] + [
            o for i in local_items for o in lean_text.opened_names(i)
        ]
        context = tuple(global_items) + tuple(i for s in scopes for i in s.items) + tuple(local_items)
        decl, header, body = _declaration(d.group("kw"), rest[d.end() :], namespaces, words, context)
        if not decl.name:  # an anonymous instance: Lean names it, `_1`, `_2`, ... after the first of a name
            base = ".".join([*namespaces, lean_text.instance_name(header)])
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
        header_refs = lean_text.resolve_all(header, namespaces, opens, by_plain)
        body_refs = lean_text.resolve_all(body, namespaces, opens, by_plain)
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
    masked = lean_text.mask_strings(rest)
    if kw == "axiom":
        cut = len(rest)
    elif kw in ("inductive", "class inductive"):
        cut = lean_text.top_level_stop(masked, 0, ("where", "|"))
    elif kw in ("structure", "class"):
        cut = lean_text.top_level_stop(masked, 0, ("where", ":="))
    else:
        cut = lean_text.top_level_stop(masked, 0, (":=", "where", "\n|"))
    header, body = rest[:cut], rest[cut:]
    if kw in ("structure", "class"):
        ext = lean_text.top_level_stop(lean_text.mask_strings(header), 0, ())
        ext_m = re.search(r"(?<![\w'.])extends\b", lean_text.mask_strings(header))
        if ext_m is not None:
            ext = ext_m.start()
        header, body = header[:ext], header[ext:] + body
    if written:
        full = (
            lean_text.plain_name(written)
            if written.startswith("_root_.")
            else ".".join([*namespaces, lean_text.plain_name(written)])
        )
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
        ctors = _constructors(kw, lean_text.squeeze(body))
    decl = Decl(
        kind=kind,
        name=full,
        header=lean_text.squeeze(header),
        body=lean_text.squeeze(body),
        context=context,
        hints="abbrev" if kw == "abbrev" else "regular",
        safety=safety,
        ctors=ctors,
    )
    return decl, header, body


def _constructors(kw: str, body: str) -> tuple[tuple[str, str], ...]:
    if kw in ("structure", "class"):
        fields = re.sub(r"^(?:extends\b.*?)?(?:where|:=)\s*", "", body, count=1)
        m = re.match(r"(\S+)\s*::", fields)
        return ((m.group(1) if m else "mk", body),)
    masked = lean_text.mask_strings(body)
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
                    alts.append((lean_text.plain_name(name.group(1)), alt))
            last = i + 1
    return tuple(alts)


def _library_axioms(text: str) -> set[str]:
    masked = lean_text.mask_strings(text)
    found = {axiom for pattern, axiom in AXIOM_TRIGGERS if pattern.search(masked)}
    found |= {t for t in lean_text.IDENT.findall(masked) if t in LIBRARY_AXIOMS}
    return found


def source(module: str) -> Path:
    return Path.cwd() / (module.replace(".", "/") + ".lean")


def read_module(module: str) -> Module | None:
    path = source(module)
    if not path.is_file():
        return None
    return parse_module(path.read_text(encoding="utf-8", errors="replace"), module)
