"""The OCaml lexer of proof vetting: HOL Light proof text as OCaml with HOL Light's syntax extension reads it.

Nested comments with strings inside them, string and quoted-string literals, character literals
and backquoted term quotations are tokens of their own, so that what a comment hides is never
taken for code and what is code is never missed.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import Enum


class TokenKind(Enum):
    """Lexical classes that matter for vetting."""

    IDENT = "ident"  # lowercase or uppercase identifier
    KEYWORD = "keyword"
    SYMBOL = "symbol"  # operator characters, brackets, separators
    LITERAL = "literal"  # numbers, strings, characters
    QUOTATION = "quotation"  # `term` or `:type`


@dataclass(frozen=True)
class Token:
    """One token with its position (1-based line and column)."""

    kind: TokenKind
    text: str
    line: int
    column: int
    offset: int = 0  # in the lexed text


class LexicalError(ValueError):
    """The text is not lexically valid OCaml (unterminated comment, string, ...)."""


KEYWORDS = frozenset(
    "and as assert begin class constraint do done downto else end exception external false for fun "
    "function functor if in include inherit initializer lazy let match method module mutable new "
    "nonrec object of open or private rec sig struct then to true try type val virtual when while "
    "with".split()
)

_OPERATOR_CHARS = "!$%&*+-./:<=>?@^|~#"
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")
_NUMBER_RE = re.compile(r"[0-9][0-9A-Za-z_.]*")
_CHAR_RE = re.compile(r"'(?:[^\\'\n]|\\[\\\"'ntbr ]|\\[0-9]{3}|\\x[0-9A-Fa-f]{2}|\\o[0-3][0-7]{2})'")
_QUOTED_STRING_OPEN_RE = re.compile(r"\{([a-z_]*)\|")


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def fail(self, what: str, start: int) -> LexicalError:
        line, column = self.where(start)
        return LexicalError(f"{what} starting at line {line}, column {column}")

    def emit(self, kind: TokenKind, start: int, end: int) -> None:
        line, column = self.where(start)
        self.tokens.append(Token(kind, self.text[start:end], line, column, start))

    def skip_string(self, start: int) -> int:
        """Return the index after the string literal opening at ``start``."""
        i = start + 1
        while i < len(self.text):
            c = self.text[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                return i + 1
            i += 1
        raise self.fail("unterminated string", start)

    def skip_quoted_string(self, start: int, delimiter: str) -> int:
        closing = "|" + delimiter + "}"
        end = self.text.find(closing, start + len(delimiter) + 2)
        if end < 0:
            raise self.fail("unterminated quoted string", start)
        return end + len(closing)

    def skip_comment(self, start: int) -> int:
        """Comments nest, and strings inside them are lexed (OCaml's rules)."""
        depth = 0
        i = start
        while i < len(self.text):
            if self.text.startswith("(*", i):
                depth += 1
                i += 2
            elif self.text.startswith("*)", i):
                depth -= 1
                i += 2
                if depth == 0:
                    return i
            elif self.text[i] == '"':
                i = self.skip_string(i)
            elif (m := _QUOTED_STRING_OPEN_RE.match(self.text, i)) is not None:
                i = self.skip_quoted_string(i, m.group(1))
            elif (m := _CHAR_RE.match(self.text, i)) is not None:
                i = m.end()
            else:
                i += 1
        raise self.fail("unterminated comment", start)

    def run(self) -> list[Token]:
        text = self.text
        while self.pos < len(text):
            i = self.pos
            c = text[i]
            if c in " \t\r\n\f":
                self.pos += 1
            elif text.startswith("(*", i):
                self.pos = self.skip_comment(i)
            elif c == '"':
                self.pos = self.skip_string(i)
                self.emit(TokenKind.LITERAL, i, self.pos)
            elif c == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise self.fail("unterminated term quotation", i)
                self.pos = end + 1
                self.emit(TokenKind.QUOTATION, i, self.pos)
            elif (m := _QUOTED_STRING_OPEN_RE.match(text, i)) is not None:
                self.pos = self.skip_quoted_string(i, m.group(1))
                self.emit(TokenKind.LITERAL, i, self.pos)
            elif c == "'" and (m := _CHAR_RE.match(text, i)) is not None:
                self.pos = m.end()
                self.emit(TokenKind.LITERAL, i, self.pos)
            elif (m := _IDENT_RE.match(text, i)) is not None:
                self.pos = m.end()
                kind = TokenKind.KEYWORD if m.group() in KEYWORDS else TokenKind.IDENT
                self.emit(kind, i, self.pos)
            elif (m := _NUMBER_RE.match(text, i)) is not None:
                self.pos = m.end()
                self.emit(TokenKind.LITERAL, i, self.pos)
            elif c in _OPERATOR_CHARS:
                end = i
                while end < len(text) and text[end] in _OPERATOR_CHARS:
                    end += 1
                self.pos = end
                self.emit(TokenKind.SYMBOL, i, end)
            elif c == ";":
                self.pos = i + 2 if text.startswith(";;", i) else i + 1
                self.emit(TokenKind.SYMBOL, i, self.pos)
            elif c in "()[]{},'":
                self.pos = i + 1
                self.emit(TokenKind.SYMBOL, i, self.pos)
            else:
                raise self.fail(f"unexpected character {c!r}", i)
        return self.tokens


def tokenize(text: str) -> list[Token]:
    """Split proof text into tokens; raises ``LexicalError`` on malformed text."""
    return _Lexer(text).run()


_BRACKETS = {")": "(", "]": "[", "}": "{"}


def check_brackets(tokens: list[Token]) -> None:
    """Brackets must balance, so the proof cannot close the wrapper around it."""
    stack: list[Token] = []
    for tok in tokens:
        if tok.kind is not TokenKind.SYMBOL:
            continue
        if tok.text in "([{":
            stack.append(tok)
        elif tok.text in _BRACKETS:
            if not stack or stack[-1].text != _BRACKETS[tok.text]:
                raise LexicalError(f"unbalanced `{tok.text}` at line {tok.line}, column {tok.column}")
            stack.pop()
    if stack:
        tok = stack[-1]
        raise LexicalError(f"unclosed `{tok.text}` at line {tok.line}, column {tok.column}")
