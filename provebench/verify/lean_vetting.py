"""Static vetting of Lean 4 candidates: a tokenizer that knows comments and strings, and the flag list.

A candidate is the whole Lean file a prover returns (the problem's own
definitions, then the theorem with its proof). Constructs that can forge a
proof, skip the checks that follow compilation, or change what the statement
means are flagged. A construct the trusted statement itself uses (CombiBench
statements have ``variable``, ``instance``, ``open``) is allowed as many times
as the statement uses it, never more.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

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
    }
)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/-)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<raw>r\#*")
  | (?P<char>'(?:[^'\\\n]|\\.[^']*)')
  | (?P<command>\#[A-Za-z_][A-Za-z0-9_!?]*)
  | (?P<ident>(?:[^\W\d]|[_«\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f])
               (?:[\w'!?\u0370-\u03ff\u1f00-\u1fff\u2080-\u209c\u2100-\u214f]|«[^»]*»|\.(?=[^\W\d]|«|_))*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class LeanLexicalError(ValueError):
    """The text is not lexically valid Lean (an unterminated comment or string)."""


@dataclass(frozen=True)
class LeanToken:
    """A word-like token (identifier, keyword, ``#command``) or a symbol, with its 1-based line."""

    text: str
    line: int


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
            out.append(LeanToken(chunk, line))
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


@dataclass(frozen=True)
class Flag:
    """A flagged construct in a candidate."""

    word: str
    line: int

    def message(self) -> str:
        """One line for the verdict."""
        return f"line {self.line}: `{self.word}` is not allowed here"


def _words(tokens: list[LeanToken]) -> list[LeanToken]:
    """Flag-relevant words: identifiers split at dots (``Lean.ofReduceBool``), ``decide +native`` joined."""
    out: list[LeanToken] = []
    for i, t in enumerate(tokens):
        for part in t.text.split("."):
            if part in FLAGGED_WORDS:
                out.append(LeanToken(part, t.line))
        if t.text == "decide" and [x.text for x in tokens[i + 1 : i + 3]] == ["+", "native"]:
            out.append(LeanToken("decide +native", t.line))
        if t.text == "set_option" and i + 1 < len(tokens) and tokens[i + 1].text.startswith("debug."):
            out.append(LeanToken("set_option debug.", t.line))
    return out


def flags(candidate: str, statement: str) -> list[Flag]:
    """What the candidate uses beyond the statement's own use; ``sorry``-like words never."""
    allowed = Counter(w.text for w in _words(tokenize(statement)))
    for never in ("sorry", "admit", "sorryAx", "import"):
        allowed[never] = 0
    seen: Counter[str] = Counter()
    found = []
    for w in _words(tokenize(candidate)):
        seen[w.text] += 1
        if seen[w.text] > allowed[w.text]:
            found.append(Flag(w.text, w.line))
    return found
