"""Reading HOL Light proof files: top-level theorems, includes, admitted copies, inlining.

A top-level theorem is a phrase ``let NAME = prove(GOAL, TACTIC);;``. Its
tactic can be replaced by ``CHEAT_TAC`` padded with the same number of line
breaks, so an admitted copy of a file keeps every line number. Inlining
expands the includes (``needs``, ``loadt``, ``loads``) of files that exist
under a root, as HOL Light would load them (``needs`` once), and keeps the
others (HOL Light's own library) as phrases.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from provebench.core.errors import UserError
from provebench.core.inputs import read_text
from provebench.systems.hol_light.ocaml_lexer import LexicalError, Token, TokenKind, tokenize

INCLUDE_COMMANDS = ("needs", "loadt", "loads")
_OPEN = {"(", "[", "{", "[|", "{<"}
_CLOSE = {")", "]", "}", "|]", ">}"}


@dataclass(frozen=True)
class Include:
    """An include phrase, on lines ``line``..``end_line``."""

    command: str
    path: str
    line: int
    end_line: int


@dataclass(frozen=True)
class TopTheorem:
    """A top-level ``let NAME = prove(GOAL, TACTIC);;``; offsets index the file's text."""

    name: str
    line: int
    goal: str
    tactic_start: int
    tactic_end: int

    def tactic(self, text: str) -> str:
        """The proof as written."""
        return text[self.tactic_start : self.tactic_end].strip()


@dataclass(frozen=True)
class SourceFile:
    """What a proof file holds."""

    text: str
    includes: tuple[Include, ...]
    theorems: tuple[TopTheorem, ...]
    # Lines a top-level phrase starts on, alone: the text before such a line is whole phrases.
    phrase_starts: frozenset[int] = frozenset()
    # The text with comments blanked (lines and offsets kept): what OCaml reads, and what
    # templates that differ only in comments (s2n-bignum's file headers) share.
    code: str = ""

    def admitted(self) -> str:
        """The text with every top-level proof replaced by CHEAT_TAC, line numbers kept."""
        out, last = [], 0
        for th in self.theorems:
            span = self.text[th.tactic_start : th.tactic_end]
            lead = span[: len(span) - len(span.lstrip())]
            out.append(self.text[last : th.tactic_start] + lead)
            out.append("CHEAT_TAC" + "\n" * span.count("\n", len(lead)))
            last = th.tactic_end
        out.append(self.text[last:])
        return "".join(out)


def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, c in enumerate(text):
        if c == "\n":
            starts.append(i + 1)
    return starts


def _phrases(tokens: list[Token]) -> list[list[Token]]:
    phrases: list[list[Token]] = []
    current: list[Token] = []
    for t in tokens:
        if t.kind is TokenKind.SYMBOL and t.text == ";;":
            if current:
                phrases.append(current)
            current = []
        else:
            current.append(t)
    return phrases


def _bindings(phrase: list[Token]) -> list[list[Token]]:
    """The bindings of a top-level ``let a = ... and b = ...`` phrase."""
    if not phrase or phrase[0].text != "let" or phrase[0].kind is not TokenKind.KEYWORD:
        return []
    out: list[list[Token]] = [[]]
    depth = 0
    for t in phrase[1:]:
        if t.kind is TokenKind.SYMBOL and t.text in _OPEN or t.kind is TokenKind.KEYWORD and t.text in ("begin", "let"):
            depth += 1
        elif t.kind is TokenKind.SYMBOL and t.text in _CLOSE or t.kind is TokenKind.KEYWORD and t.text in ("end", "in"):
            depth -= 1
        if depth == 0 and t.kind is TokenKind.KEYWORD and t.text == "and":
            out.append([])
        else:
            out[-1].append(t)
    return out


def _theorem(binding: list[Token], starts: list[int], line: int, text: str) -> TopTheorem | None:
    """``NAME = [time] prove (GOAL, TACTIC)`` as one binding of a top-level let."""
    if len(binding) < 7 or binding[0].kind is not TokenKind.IDENT or binding[1].text != "=":
        return None
    if binding[0].text == "_":
        return None  # ``let _ = prove ...`` binds no name: not a theorem anyone can cite
    body = binding[2:]
    if body[0].text == "time":
        body = body[1:]
    if len(body) < 5 or body[0].text != "prove" or body[1].text != "(" or body[-1].text != ")":
        return None
    depth, comma = 0, None
    for i, t in enumerate(body[1:], 1):
        if t.kind is TokenKind.SYMBOL and t.text in _OPEN:
            depth += 1
        elif t.kind is TokenKind.SYMBOL and t.text in _CLOSE:
            depth -= 1
            if depth == 0 and i != len(body) - 1:
                return None  # prove(...) is followed by more: not a plain theorem
        elif depth == 1 and t.kind is TokenKind.SYMBOL and t.text == "," and comma is None:
            comma = i
    if comma is None or comma == 2:
        return None

    def at(t: Token) -> int:
        return starts[t.line - 1] + t.column - 1

    # The goal as written (what the benchmark shows as its query), from its first token to its last.
    goal = text[body[2].offset : body[comma - 1].offset + len(body[comma - 1].text)]
    return TopTheorem(
        name=binding[0].text,
        line=line,
        goal=goal,
        tactic_start=at(body[comma]) + 1,
        tactic_end=at(body[-1]),
    )


def _include(phrase: list[Token]) -> Include | None:
    if len(phrase) == 2 and phrase[0].text in INCLUDE_COMMANDS and phrase[1].kind is TokenKind.LITERAL:
        literal = phrase[1].text
        if literal.startswith('"') and literal.endswith('"') and "\\" not in literal:
            return Include(command=phrase[0].text, path=literal[1:-1], line=phrase[0].line, end_line=phrase[1].line)
    return None


def scan_source(text: str, where: str) -> SourceFile:
    """The includes and top-level theorems of a proof file."""
    try:
        tokens = tokenize(text)
    except LexicalError as exc:
        raise UserError(f"{where}: cannot read it as OCaml: {exc}") from None
    starts = _offsets(text)
    includes, theorems = [], []
    for phrase in _phrases(tokens):
        if (inc := _include(phrase)) is not None:
            includes.append(inc)
            continue
        for binding in _bindings(phrase):
            if (th := _theorem(binding, starts, phrase[0].line, text)) is not None:
                theorems.append(th)
    return SourceFile(
        text=text,
        includes=tuple(includes),
        theorems=tuple(theorems),
        phrase_starts=_phrase_starts(tokens, text),
        code=code_only(tokens, text),
    )


def code_only(tokens: list[Token], text: str) -> str:
    """``text`` as OCaml reads it, lines kept: each gap between tokens shrunk to its newlines, or a space.

    Gaps are comments and whitespace, so texts that differ only there become equal.
    """
    out, last = [], 0
    for t in tokens:
        out.append(_gap(text[last : t.offset]))
        out.append(t.text)
        last = t.offset + len(t.text)
    out.append(_gap(text[last:]))
    return "".join(out)


def _gap(between: str) -> str:
    newlines = between.count("\n")
    return "\n" * newlines if newlines else " " if between else ""


def _phrase_starts(tokens: list[Token], text: str) -> frozenset[int]:
    """Lines where a phrase starts after a ``;;`` on an earlier line, with nothing before it on its line."""
    lines = text.split("\n")
    out: set[int] = set()
    previous_end, at_start = 0, True
    for t in tokens:
        if t.kind is TokenKind.SYMBOL and t.text == ";;":
            previous_end, at_start = t.line, True
        elif at_start:
            at_start = False
            if t.line > previous_end and not lines[t.line - 1][: t.column - 1].strip():
                out.add(t.line)
    return frozenset(out)


@lru_cache(maxsize=4096)
def scan_file(path: Path) -> SourceFile:
    """A proof file, scanned once per process (an import reads each file from many templates)."""
    return scan_source(read_text(path, "proof file"), str(path))


def _under(top: Path, rel: str, inc: Include) -> bool:
    """Whether ``inc`` names a file under ``top`` (expanded), or else HOL Light's own (kept for the checker).

    An include that is absolute or climbs out of ``top`` (by ``..`` or a symlink) is refused: its
    text would come from the host, outside the folder whose hash pins the suite. HOL Light's own
    library (``needs "Library/words.ml"``) names no file under ``top`` and loads inside the checker.
    """
    refused = f'{top.name}/{rel}: line {inc.line}: {inc.command} "{inc.path}" is outside the folder of its templates'
    climbs = posixpath.normpath(inc.path).split("/")[0] == ".."
    if posixpath.isabs(inc.path) or climbs:
        raise UserError(f"{refused} (a suite's files all lie inside it)")
    path = top / inc.path
    if not path.is_file():
        return False
    if not path.resolve().is_relative_to(top):
        raise UserError(f"{refused} (through a symlink; a suite's files all lie inside it)")
    return True


@dataclass(frozen=True)
class Inlined:
    """A file with its includes expanded; ``origins[i]`` is where line i + 1 came from."""

    lines: tuple[str, ...]
    origins: tuple[tuple[str, int], ...]


def inline(root: Path, rel: str, admitted: bool = False, code: bool = False) -> Inlined:
    """``rel`` with every include of a file under ``root`` expanded, as HOL Light would load them.

    An include phrase must be alone on its lines; those lines become the
    included file's lines. With ``admitted``, proofs are CHEAT_TAC; with
    ``code``, comments are blanked. An include that is absolute or leads
    outside ``root`` is a one-line error.
    """
    lines: list[str] = []
    origins: list[tuple[str, int]] = []
    loaded: set[str] = set()

    top = root.resolve()

    def expand(rel: str) -> None:
        loaded.add(rel)
        source = scan_file(root / rel)
        text = source.admitted() if admitted else source.code if code else source.text
        own = text.split("\n")
        nxt = 1
        for inc in source.includes:
            if not _under(top, rel, inc):
                continue
            for n in range(nxt, inc.line):
                lines.append(own[n - 1])
                origins.append((rel, n))
            nxt = inc.end_line + 1
            if inc.command == "needs" and inc.path in loaded:
                continue
            expand(inc.path)
        for n in range(nxt, len(own) + 1):
            lines.append(own[n - 1])
            origins.append((rel, n))

    if not (root / rel).is_file():
        raise UserError(f"{root / rel}: template not found")
    expand(rel)
    return Inlined(lines=tuple(lines), origins=tuple(origins))
