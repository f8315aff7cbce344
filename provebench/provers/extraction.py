"""Where the proof is in a model's reply: the rules prompt presets name, and the generic one.

A rule is data (``Extraction``, the ``extract:`` block of a preset's manifest) so that a preset says which
one its model's own evaluation uses, and one function applies it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# An opening fence of 3+ backticks or tildes (with an optional info string), the body, and a
# closing fence of the same kind at least as long, each fence on a line of its own.
_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^[ \t]*(?P=fence)[`~]*[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def _blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(info string, body, start, end) of every complete fenced block, in order."""
    found = _FENCE.finditer(text)
    return [(m.group("info").strip().lower(), m.group("body").strip("\n"), m.start(), m.end()) for m in found]


def extract_last_code_block(reply: str) -> str | None:
    """The body of the last complete fenced code block of a reply, or None when there is none."""
    blocks = _blocks(reply)
    if not blocks:
        return None
    body = blocks[-1][1]
    return body if body.strip() else None


class Extraction(BaseModel):
    """How a preset takes the proof out of a reply (the ``extract:`` block of its manifest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: Literal["last-code-block", "last-lean4-block", "open-block"] = Field(
        description="last-code-block: the last fenced block of any language; last-lean4-block: the last block "
        "fenced ```lean4 (else the last fenced ```lean); open-block: the block the raw prompt leaves open, as the "
        "reply goes on and closes it (completions API only)"
    )
    requires: tuple[str, ...] = Field(
        default=(), description="words the block must hold: later blocks without all of them are passed over"
    )
    fallback: Literal["none", "reply"] = Field(
        default="none", description="reply: with no block, the whole reply (stripped) is the proof"
    )
    strip_context: bool = Field(
        default=False,
        description="drop the block's leading lines that repeat the problem's context (the header the prompt "
        "showed the model, which the checker loads itself)",
    )


def _strip_context(text: str, context: str) -> str:
    header = {line.strip() for line in context.splitlines() if line.strip()}
    lines = text.split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].strip() in header):
        i += 1
    return "\n".join(lines[i:])


def extract(rule: Extraction, reply: str, prompt: str = "", context: str = "") -> str | None:
    """The proof ``rule`` finds in ``reply`` (continuing ``prompt``, for ``open-block``), or None."""
    if rule.rule == "open-block":
        # The prompt's own text is the start of the block: the block is the one that spans the joint.
        blocks = [b for b in _blocks(prompt + reply) if b[2] < len(prompt) < b[3]]
    else:
        blocks = _blocks(reply)
    if rule.rule == "last-lean4-block":
        blocks = [b for b in blocks if b[0] == "lean4"] or [b for b in blocks if b[0] == "lean"]
    bodies = [b[1] for b in blocks if all(word in b[1] for word in rule.requires)]
    found = bodies[-1] if bodies else None
    if found is None and rule.fallback == "reply":
        found = reply.strip()
    if found is not None and rule.strip_context:
        found = _strip_context(found, context)
    return found.strip("\n") if found is not None and found.strip() else None
