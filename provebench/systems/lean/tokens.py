"""A Lean-aware tokenizer: words and symbols with their line and offset, comments and string contents left out."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/-)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<raw>r\#*")
  | (?P<char>'(?:[^'\\\n]|\\.[^']*)')
  | (?P<command>\#[A-Za-z_][A-Za-z0-9_!?]*)
  | (?P<ident>(?:«[^»]*»|[^\W\d]|[_\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f])
               (?:[\w'!?\u0370-\u03ff\u1f00-\u1fff\u2080-\u209c\u2100-\u214f]|«[^»]*»|\.(?=[^\W\d]|«|_))*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_NAME_PART = re.compile(r"«([^»]*)»|([^.«]+)")


class LeanLexicalError(ValueError):
    """The text is not lexically valid Lean (an unterminated comment or string)."""


@dataclass(frozen=True)
class LeanToken:
    """A word-like token (identifier, keyword, ``#command``) or a symbol, with its 1-based line.

    ``start`` is its offset in the text (digits are one token each: a number is read from the text there).
    """

    text: str
    line: int
    start: int = 0

    @property
    def end(self) -> int:
        """The offset just after the token."""
        return self.start + len(self.text)

    @property
    def is_word(self) -> bool:
        """An identifier or keyword (not a symbol, a digit or a ``#command``)."""
        first = self.text[:1]
        return first in ("_", "«") or first.isalpha()


def tokenize(text: str) -> list[LeanToken]:
    """The tokens of ``text``, comments and string contents left out."""
    out: list[LeanToken] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None  # "other" matches any character
        kind, chunk = m.lastgroup, m.group()
        if kind == "block_comment":
            end = _block_comment_end(text, pos)
            chunk = text[pos:end]
        elif kind == "raw":
            hashes = chunk[1:-1]
            close = text.find('"' + hashes, m.end())
            if close < 0:
                raise LeanLexicalError(f"unterminated raw string starting at line {line}")
            chunk = text[pos : close + 1 + len(hashes)]
        elif kind == "other" and chunk == '"':
            raise LeanLexicalError(f"unterminated string starting at line {line}")
        if kind in ("ident", "command", "other"):
            out.append(LeanToken(chunk, line, pos))
        line += chunk.count("\n")
        pos += len(chunk)
    return out


def _block_comment_end(text: str, start: int) -> int:
    """Block comments nest in Lean."""
    depth, i = 0, start
    while i < len(text):
        if text.startswith("/-", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("-/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    line = text.count("\n", 0, start) + 1
    raise LeanLexicalError(f"unterminated comment starting at line {line}")


def name_parts(ident: str) -> list[str]:
    """A dotted name's components as Lean reads them: ``A.«B.C»`` is ``A``, ``B.C``; ``«sorryAx»`` is ``sorryAx``."""
    return [quoted if quoted else plain for quoted, plain in _NAME_PART.findall(ident)]


def is_keyword(tokens: list[LeanToken], i: int, text: str, word: str) -> bool:
    """``tokens[i]`` is the keyword ``word``, not a field after a dot (``(x).end``)."""
    t = tokens[i]
    return t.text == word and not (t.start > 0 and text[t.start - 1] == ".")
