"""What a model is asked and what proof is taken from its answer: the one place both are decided.

The ``openai`` prover and the Inspect tasks (``integrations.inspect``) both ask through a ``PromptSource``,
so the prompts of an ``inspect eval`` equal those of a ``provebench run`` with the same preset or folder,
and so does the proof each takes from a reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from provebench.core.model import Problem, System
from provebench.provers.api import PreviousAttempt
from provebench.provers.extraction import extract, extract_last_code_block
from provebench.provers.openai_settings import Api
from provebench.provers.presets import Preset, load_preset
from provebench.provers.prompting import PromptTemplates
from provebench.provers.suite_prompts import SuitePrompt

ChatMessages = tuple[tuple[str, str], ...]  # (role, text), in order


class PromptSource:
    """The generic templates of each proof system, a folder of the user's own, or a bundled preset."""

    def __init__(self, preset: str | None, prompt_dir: Path | None, api: Api | None) -> None:
        self.preset: Preset | None = load_preset(preset) if preset else None
        self.prompt_dir = prompt_dir
        self.api: Api = api or (self.preset.manifest.api if self.preset else "chat")
        if self.preset is not None:
            self.preset.check_api(self.api)
        self._templates: dict[System, PromptTemplates | SuitePrompt] = {}

    @property
    def can_repair(self) -> bool:
        """A preset renders its model's documented first-round prompt; none documents a repair round."""
        return self.preset is None

    @property
    def stop(self) -> tuple[str, ...]:
        """The preset's stop strings (a user's own ``stop`` setting wins over them)."""
        return tuple(self.preset.manifest.stop) if self.preset else ()

    def prepare(self, problems: Sequence[Problem]) -> None:
        """Load the templates of each proof system of ``problems`` and render one first round of each.

        A template that cannot render (refused code, an unknown value), or a suite without the prompt file a
        preset names, is said here, before any request or checker starts.
        """
        for system in {p.system for p in problems}:
            if system in self._templates:
                continue
            templates: PromptTemplates | SuitePrompt
            if self.preset is not None:
                self.preset.check_system(system)
                templates = self.preset.prompter(self.api)
            else:
                templates = PromptTemplates.for_system(system, self.prompt_dir, self.api)
            templates.render_first(next(p for p in problems if p.system is system))
            self._templates[system] = templates

    def _for(self, problem: Problem) -> PromptTemplates | SuitePrompt:
        if problem.system not in self._templates:
            self.prepare([problem])
        return self._templates[problem.system]

    def chat(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> ChatMessages:
        """The chat messages; an empty system template sends no system message (as DeepSeek's and Goedel's cards)."""
        rendered = self._for(problem).render(problem, history)
        system: ChatMessages = (("system", rendered.system),) if rendered.system else ()
        return (*system, ("user", rendered.user))

    def prompt(self, problem: Problem, history: tuple[PreviousAttempt, ...]) -> str:
        """The raw prompt of the completions API, exactly as rendered."""
        return self._for(problem).render_prompt(problem, history)

    def proof(self, reply: str, problem: Problem, prompt: str = "") -> str | None:
        """The proof in a reply: the preset's extraction rule, else the last fenced code block."""
        if self.preset is not None:
            return extract(self.preset.manifest.extract, reply, prompt, problem.context)
        return extract_last_code_block(reply)

    def hashes(self) -> dict[str, str]:
        """Hashes of the templates in use (and of a suite's prompt file a preset sends)."""
        return {k: v for t in self._templates.values() for k, v in t.hashes.items()}
