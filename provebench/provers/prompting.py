"""Prompt templates (Jinja2, one system and one user template per proof system) and proof extraction."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from provebench.core.errors import UserError
from provebench.core.inputs import read_text
from provebench.core.model import Problem, System
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
        missing = [n for n in TEMPLATE_NAMES if not (folder / n).exists() and not (folder / n).is_symlink()]
        if missing:
            raise UserError(f"{folder}: prompt folder needs {' and '.join(missing)}")
        # Bounded reads of regular files (a template linked to /dev/zero is an error, not a hang); the
        # hashes are of the very bytes rendered.
        self._sources = {n: read_text(folder / n, "prompt template") for n in TEMPLATE_NAMES}
        self.hashes = {
            f"{folder.name}/{n}": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
            for n, text in self._sources.items()
        }
        # Sandboxed: a prompt folder may come from anyone, and a template must not reach Python
        # ({{ lipsum.__globals__['os'].popen(...) }} ran a shell command in a plain Environment).
        self._env = SandboxedEnvironment(
            loader=jinja2.FunctionLoader(self._source),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - prompts are plain text, not HTML
            keep_trailing_newline=True,
        )
        try:
            self._system = self._env.get_template("system.j2")
            self._user = self._env.get_template("user.j2")
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"{exc.filename}: line {exc.lineno}: template error: {exc.message}") from None

    def _source(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        """A template's text and file name: the two read above, or a file of the prompt folder it includes."""
        path = self.folder.joinpath(*name.split("/"))
        if name in self._sources:
            return self._sources[name], str(path), lambda: True
        if name.startswith("/") or ".." in name.split("/") or not path.exists():
            return None  # jinja2 says the template is not found
        return read_text(path, "prompt template"), str(path), lambda: True

    @classmethod
    def for_system(cls, system: System, prompt_dir: Path | None) -> PromptTemplates:
        """The templates under ``prompt_dir/<system>`` (default: the bundled ones)."""
        root = prompt_dir or BUNDLED_PROMPTS
        folder = root / system.value
        if not folder.is_dir():
            raise UserError(f"no prompt templates for {system.value} in {root}")
        return cls(folder)

    def render(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> Messages:
        """Both messages for this problem and these earlier failed rounds; one-line errors for a bad template."""
        values = {"problem": flat_fields(problem), "history": history, "system": problem.system.value}
        rendered = []
        for name, template in (("system.j2", self._system), ("user.j2", self._user)):
            try:
                rendered.append(template.render(values).strip())
            except UserError:
                raise  # an included file that cannot be read: said already
            except jinja2.UndefinedError as exc:
                raise UserError(f"{self.folder / name}: template uses an unknown value: {_first_line(exc)}") from None
            except SecurityError as exc:
                raise UserError(f"{self.folder / name}: refused: {_first_line(exc)}") from None
            except Exception as exc:  # the template's own fault (1/0, a missing include, ...): the user's to fix
                raise UserError(
                    f"{self.folder / name}: template error: {type(exc).__name__}: {_first_line(exc)}"
                ) from None
        return Messages(system=rendered[0], user=rendered[1])


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:300]
