"""Prompt presets: the documented prompt format and proof extraction of a prover model, as data.

A preset is a folder under ``provebench/prompts/presets/``: its templates (``system.j2`` and ``user.j2``
for the chat API, ``prompt.j2`` for the completions API) and ``preset.yaml``, which says which proof
system it is for, which API its model's documentation uses, the stop strings, the extraction rule and
the sources it follows (a model card, a paper, an evaluation script). A benchmark's own prompt is no
template of provebench's: such a preset names the suite's prompt file instead (``suite_prompt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, read_yaml
from provebench.core.model import System
from provebench.provers.extraction import Extraction
from provebench.provers.openai_settings import Api
from provebench.provers.prompting import BUNDLED_PROMPTS, RAW_TEMPLATE, TEMPLATE_NAMES, PromptTemplates
from provebench.provers.suite_prompts import SuitePrompt, SuitePromptSpec

PRESETS = BUNDLED_PROMPTS / "presets"
MANIFEST = "preset.yaml"


class PresetManifest(BaseModel):
    """``preset.yaml``: what a prompt preset is for and where its format comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, description="the model (and mode) the preset is written for")
    system: System = Field(description="the proof system of the problems it can prompt for")
    api: Api = Field(description="the API its model's documentation uses (the default of a run that names no api)")
    stop: tuple[str, ...] = Field(default=(), description="stop strings sent unless the prover block sets stop")
    extract: Extraction = Field(description="where the proof is in a reply")
    sources: tuple[str, ...] = Field(min_length=1, description="the model card, paper or script followed (URLs)")
    notes: str = Field(default="", description="what the sources leave open, and what the preset chose")
    suite_prompt: SuitePromptSpec | None = Field(
        default=None,
        description="instead of templates: the benchmark's own prompt, a file the suite keeps, sent with its "
        "placeholder replaced (for both APIs)",
    )

    @model_validator(mode="after")
    def _open_block_needs_a_prompt(self) -> PresetManifest:
        if self.extract.rule == "open-block" and self.api != "completions":
            raise ValueError("extract.rule open-block needs api completions (a chat has no raw prompt to continue)")
        return self


@dataclass(frozen=True)
class Preset:
    """A bundled prompt preset: its name (the folder's), folder and manifest."""

    name: str
    folder: Path
    manifest: PresetManifest

    @property
    def apis(self) -> tuple[Api, ...]:
        """The APIs it has templates for: chat needs system.j2 and user.j2, completions prompt.j2.

        A suite's prompt file is one text, for both.
        """
        if self.manifest.suite_prompt is not None:
            return ("chat", "completions")
        out: list[Api] = []
        if all((self.folder / n).is_file() for n in TEMPLATE_NAMES):
            out.append("chat")
        if (self.folder / RAW_TEMPLATE).is_file():
            out.append("completions")
        return tuple(out)

    def check_api(self, api: Api) -> None:
        """A one-line error when the preset has no templates for ``api``."""
        if api not in self.apis:
            raise UserError(
                f"prompt preset {self.name} is written for the {self.manifest.api} API and has no templates for "
                f"api {api}; leave api unset or set it to {' or '.join(self.apis)}"
            )

    def prompter(self, api: Api) -> PromptTemplates | SuitePrompt:
        """What renders its prompts for ``api``: its templates, or the suite's prompt file it names."""
        if self.manifest.suite_prompt is not None:
            return SuitePrompt(self.manifest.suite_prompt, self.name)
        return PromptTemplates(self.folder, api)

    def check_system(self, system: System) -> None:
        """A one-line error when the preset is for another proof system."""
        if system is not self.manifest.system:
            raise UserError(
                f"prompt preset {self.name} is for {self.manifest.system.value} problems, and this suite's are "
                f"{system.value}; choose a {system.value} preset (`provebench provers presets`) or none"
            )


def known_presets() -> list[str]:
    """The names of the bundled presets."""
    return sorted(p.name for p in PRESETS.iterdir() if (p / MANIFEST).is_file()) if PRESETS.is_dir() else []


def load_preset(name: str) -> Preset:
    """The bundled preset ``name``; an unknown name is a one-line error listing the known ones."""
    known = known_presets()
    if name not in known:
        raise UserError(f"unknown prompt preset {name!r}; known presets: {', '.join(known)}")
    folder = PRESETS / name
    data = read_yaml(folder / MANIFEST, "preset manifest")
    try:
        manifest = PresetManifest.model_validate(data)
    except ValidationError as exc:
        where, msg = first_error(exc)
        raise UserError(f"{folder / MANIFEST}: '{where or '(manifest)'}': {msg}") from None
    templates = [n for n in (*TEMPLATE_NAMES, RAW_TEMPLATE) if (folder / n).exists()]
    if manifest.suite_prompt is not None and templates:
        raise UserError(f"{folder}: a preset with suite_prompt sends the suite's file, so {templates[0]} is not used")
    preset = Preset(name=name, folder=folder, manifest=manifest)
    preset.check_api(manifest.api)
    return preset


def all_presets() -> list[Preset]:
    """Every bundled preset, by name."""
    return [load_preset(name) for name in known_presets()]
