"""A suite folder's files: each lies inside the folder, and is read whole under a size limit.

Besides its problems and templates, a suite may keep its benchmark's own prompt files under ``prompts/``
(s2n-bignum-bench's ``prompt-basic.txt``, copied by the import): data of the suite, hashed with it, that a
prompt preset with ``suite_prompt`` sends. provebench itself carries none of their text.
"""

from __future__ import annotations

from pathlib import Path

from provebench.core.errors import UserError
from provebench.core.inputs import read_bytes, read_text

PROMPTS_DIR = "prompts"
# A benchmark's prompt is a few KB of instructions and examples: a larger file is not one, and every request
# of a run would carry it.
MAX_PROMPT_BYTES = 1 << 20
PROMPT_FILE = "suite prompt file"


def inside(folder: Path, rel: str, where: str) -> Path:
    """``folder / rel`` with symlinks resolved, or a one-line error if that lies outside ``folder``.

    A suite is a closed folder: its hash covers what is in it, so a file from elsewhere (an absolute
    path, ``..``, a symlink out) would be checked against without a leaderboard's pin covering it.
    """
    root = folder.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise UserError(f"{where}: {rel!r} is outside the suite folder (a suite's files all lie inside it)")
    return path


def prompt_path(folder: Path, name: str, where: str) -> Path:
    """The suite's prompt file ``name`` (under ``prompts/``), refused if it (or a symlink on the way) leads out.

    The path keeps its name (a symlink inside the folder is followed when it is read, not here), so that a
    preset finds the file by the name the suite records.
    """
    inside(folder, f"{PROMPTS_DIR}/{name}", where)
    return folder.resolve() / PROMPTS_DIR / name


def read_prompt_bytes(path: Path) -> bytes:
    """A suite prompt file's bytes: a regular file of at most ``MAX_PROMPT_BYTES``; one-line errors."""
    return read_bytes(path, PROMPT_FILE, MAX_PROMPT_BYTES)


def read_prompt(path: Path) -> str:
    """A suite prompt file's text (UTF-8), checked again to lie inside its suite folder when it is read."""
    suite = path.parent.parent
    inside(suite, f"{PROMPTS_DIR}/{path.name}", str(suite))
    return read_text(path, PROMPT_FILE, MAX_PROMPT_BYTES)
