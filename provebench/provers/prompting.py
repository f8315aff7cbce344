"""Prompt templates (Jinja2): a chat prompt's system and user messages, or a completions prompt's raw text."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from provebench.core.errors import UserError
from provebench.core.inputs import read_text
from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt
from provebench.provers.openai_settings import Api
from provebench.suites.extensions import flat_fields

BUNDLED_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
TEMPLATE_NAMES = ("system.j2", "user.j2")  # a chat prompt: the system message (empty: none) and the user's
RAW_TEMPLATE = "prompt.j2"  # a completions prompt: the raw text the model continues


@dataclass(frozen=True)
class Messages:
    """A rendered chat prompt."""

    system: str
    user: str


class PromptTemplates:
    """The templates of one prompt folder, for one API.

    For the chat API, ``system.j2`` and ``user.j2``. For the completions API, ``prompt.j2`` when the folder
    has one, else the two chat templates' texts joined by a blank line.
    """

    def __init__(self, folder: Path, api: Api = "chat") -> None:
        self.folder = folder
        self.api = api
        names = (RAW_TEMPLATE,) if api == "completions" and _present(folder / RAW_TEMPLATE) else TEMPLATE_NAMES
        missing = [n for n in names if not _present(folder / n)]
        if missing:
            raise UserError(f"{folder}: prompt folder needs {' and '.join(missing)}")
        # Bounded reads of regular files (a template linked to /dev/zero is an error, not a hang); the
        # hashes are of the very bytes rendered.
        self._sources = {n: read_text(folder / n, "prompt template") for n in names}
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
            self._templates = {n: self._env.get_template(n) for n in names}
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"{exc.filename}: line {exc.lineno}: template error: {exc.message}") from None

    def _source(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        """A template's text and file name: the ones read above, or a file of the prompt folder it includes."""
        path = self.folder.joinpath(*name.split("/"))
        if name in self._sources:
            return self._sources[name], str(path), lambda: True
        if name.startswith("/") or ".." in name.split("/") or not path.exists():
            return None  # jinja2 says the template is not found
        text = read_text(path, "prompt template")
        # An included file shapes the prompt as much as the template does: its hash is recorded too.
        self.hashes[f"{self.folder.name}/{name}"] = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        return text, str(path), lambda: True

    @classmethod
    def for_system(cls, system: System, prompt_dir: Path | None, api: Api = "chat") -> PromptTemplates:
        """The templates under ``prompt_dir/<system>`` (default: the bundled ones)."""
        root = prompt_dir or BUNDLED_PROMPTS
        folder = root / system.value
        if not folder.is_dir():
            raise UserError(f"no prompt templates for {system.value} in {root}")
        return cls(folder, api)

    def render(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> Messages:
        """Both chat messages for this problem and these earlier failed rounds; one-line errors for a bad template."""
        values = _values(problem, history)
        return Messages(system=self._render("system.j2", values), user=self._render("user.j2", values))

    def render_prompt(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> str:
        """The raw prompt of the completions API, exactly as rendered (a model continues its very last character)."""
        values = _values(problem, history)
        if RAW_TEMPLATE in self._templates:
            return self._render(RAW_TEMPLATE, values, strip=False)
        return "\n\n".join(t for t in (self._render(n, values) for n in TEMPLATE_NAMES) if t)

    def render_first(self, problem: Problem) -> None:
        """Render every template once for ``problem``: a template that cannot render is said before a run starts."""
        if RAW_TEMPLATE in self._templates:
            self.render_prompt(problem, ())
        else:
            self.render(problem, ())

    def _render(self, name: str, values: dict[str, Any], strip: bool = True) -> str:
        if name not in self._templates:
            raise UserError(f"{self.folder}: prompt folder needs {name} for the {self.api} API")
        try:
            text = self._templates[name].render(values)
        except UserError:
            raise  # an included file that cannot be read: said already
        except jinja2.UndefinedError as exc:
            raise UserError(f"{self.folder / name}: template uses an unknown value: {_first_line(exc)}") from None
        except SecurityError as exc:
            raise UserError(f"{self.folder / name}: refused: {_first_line(exc)}") from None
        except Exception as exc:  # the template's own fault (1/0, a missing include, ...): the user's to fix
            raise UserError(f"{self.folder / name}: template error: {type(exc).__name__}: {_first_line(exc)}") from None
        return text.strip() if strip else text


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _values(problem: Problem, history: tuple[PreviousAttempt, ...]) -> dict[str, Any]:
    return {"problem": flat_fields(problem), "history": history, "system": problem.system.value}


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:300]
