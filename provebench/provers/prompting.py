"""Prompt templates (Jinja2, one system and one user template per proof system) and proof extraction."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from provebench.errors import UserError
from provebench.model import Problem, System
from provebench.provers.api import PreviousAttempt
from provebench.suites.extensions import flat_fields

BUNDLED_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
TEMPLATE_NAMES = ("system.j2", "user.j2")

# An opening fence of 3+ backticks or tildes (with an optional info string), the body, and a
# closing fence of the same kind at least as long, each fence on a line of its own.
_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)^[ \t]*(?P=fence)[`~]*[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def extract_last_code_block(reply: str) -> str | None:
    """The body of the last complete fenced code block of a reply, or None when there is none."""
    blocks = [m.group("body") for m in _FENCE.finditer(reply)]
    if not blocks:
        return None
    body = blocks[-1].strip("\n")
    return body if body.strip() else None


@dataclass(frozen=True)
class Messages:
    """A rendered chat prompt."""

    system: str
    user: str


class PromptTemplates:
    """The system and user templates for one proof system."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        missing = [n for n in TEMPLATE_NAMES if not (folder / n).is_file()]
        if missing:
            raise UserError(f"{folder}: prompt folder needs {' and '.join(missing)}")
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - prompts are plain text, not HTML
            keep_trailing_newline=True,
        )
        try:
            self._system = self._env.get_template("system.j2")
            self._user = self._env.get_template("user.j2")
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"{exc.filename}: line {exc.lineno}: template error: {exc.message}") from None
        self.hashes = {
            f"{folder.name}/{n}": "sha256:" + hashlib.sha256((folder / n).read_bytes()).hexdigest()
            for n in TEMPLATE_NAMES
        }

    @classmethod
    def for_system(cls, system: System, prompt_dir: Path | None) -> PromptTemplates:
        """The templates under ``prompt_dir/<system>`` (default: the bundled ones)."""
        root = prompt_dir or BUNDLED_PROMPTS
        folder = root / system.value
        if not folder.is_dir():
            raise UserError(f"no prompt templates for {system.value} in {root}")
        return cls(folder)

    def render(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> Messages:
        """Both messages for this problem and these earlier failed rounds."""
        values = {"problem": flat_fields(problem), "history": history, "system": problem.system.value}
        try:
            return Messages(system=self._system.render(values).strip(), user=self._user.render(values).strip())
        except jinja2.UndefinedError as exc:
            raise UserError(f"{self.folder}: template uses an unknown value: {exc.message}") from None
