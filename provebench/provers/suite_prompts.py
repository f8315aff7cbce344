"""A benchmark's own prompt, as the benchmark sends it: a file the suite keeps, its placeholder replaced.

provebench carries none of a benchmark's prompt text: the suite's import copies the file into the suite
(``prompts/``, hashed with the suite), and a preset's ``suite_prompt`` names it. The text is data, from
the benchmark or from whoever made the suite folder: it is never rendered as a template, only its
placeholder is replaced, literally, by the problem's query.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from provebench.core.errors import UserError
from provebench.core.model import Problem
from provebench.provers.api import PreviousAttempt
from provebench.provers.prompting import Messages
from provebench.suites.folder import PROMPTS_DIR, read_prompt
from provebench.suites.load import SUITE_NAME
from provebench.suites.s2n_query import benchmark_query


class SuitePromptSpec(BaseModel):
    """Which of the suite's prompt files a preset sends instead of templates, and where the query goes in it.

    The ``suite_prompt:`` block of its manifest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(pattern=SUITE_NAME, description="the prompt file's name (one of suite.yaml's prompts)")
    placeholder: str = Field(
        min_length=1,
        description="the text in the file that the problem's query replaces (as the benchmark words the goal: its "
        "own query, else the term in backquotes), literally: the file is never a template",
    )
    imported_by: str = Field(min_length=1, description="the command that imports a suite with the file")


class SuitePrompt:
    """The prompt of a preset with ``suite_prompt``: one text, the chat's user message or the raw prompt."""

    def __init__(self, spec: SuitePromptSpec, preset: str) -> None:
        self.spec = spec
        self.preset = preset
        self.hashes: dict[str, str] = {}  # of the very text sent, by suite and path in the suite, as templates'
        self._texts: dict[str, str] = {}  # by path: a suite's file is read once

    def text(self, problem: Problem) -> str:
        """The suite's prompt file with its placeholder replaced by ``problem``'s query; one-line errors."""
        path = next((p for p in problem.prompt_files if Path(p).name == self.spec.file), None)
        if path is None:
            raise UserError(
                f"suite {problem.suite} has no prompt file {self.spec.file}: prompt preset {self.preset} sends the "
                f"benchmark's own prompt, which its import keeps in the suite; import it with `{self.spec.imported_by}`"
            )
        if path not in self._texts:
            text = read_prompt(Path(path))  # bounded, a regular file, still inside the suite folder
            if self.spec.placeholder not in text:
                raise UserError(f"{path}: has no {self.spec.placeholder}, where the problem's query goes")
            self._texts[path] = text
            key = f"{problem.suite}/{PROMPTS_DIR}/{self.spec.file}"
            self.hashes[key] = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        # str.replace: one pass, so a query that holds the placeholder, or braces, is sent as it is.
        return self._texts[path].replace(self.spec.placeholder, benchmark_query(problem))

    def render(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> Messages:
        """A chat's messages: the text as the one user message (the benchmark sends no system message)."""
        return Messages(system="", user=self.text(problem))

    def render_prompt(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> str:
        """The completions API's raw prompt: the same text."""
        return self.text(problem)

    def render_first(self, problem: Problem) -> None:
        """Read the file once for ``problem``: a suite without it is said before a run starts."""
        self.text(problem)
