"""MkDocs hook: the configuration reference page is generated from the models that read each file.

`docs/reference/config.md` holds the marker below; at build time it becomes one table per pydantic model
a user's file is validated by (every key, its type and bounds, its default and its description), so the
reference cannot drift from the models. A key's description is its ``Field(description=...)``, else the
comment beside or just above it in the model's source (models whose JSON schema is shipped, such as the
bundle manifest's, keep their descriptions in comments so that the schema files do not change).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import io
import json
import textwrap
import tokenize
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from provebench.boards.board import BoardConfig
from provebench.boards.bundle import SuiteRef
from provebench.core.model import CheckerInfo, Kind, Problem, ProblemExtension
from provebench.core.settings import Settings
from provebench.provers.agent import AgentSettings
from provebench.provers.api import PreviousAttempt
from provebench.provers.baseline import BaselineSettings, Strategy
from provebench.provers.extraction import Extraction
from provebench.provers.openai_settings import OpenAISettings, Prices
from provebench.provers.presets import PresetManifest
from provebench.provers.prompting import RAW_TEMPLATE, TEMPLATE_NAMES
from provebench.provers.replay import ReplaySettings
from provebench.provers.suite_prompts import SuitePromptSpec
from provebench.runs.config import ProverConfig, RunConfig
from provebench.suites import extensions as problem_extensions
from provebench.suites.layouts import BenchmarkLayout
from provebench.suites.load import ProblemEntry, SuiteManifest

MARKER = "<!-- config-reference -->"
ENV_PREFIX = "PROVEBENCH_"
# The settings model of each built-in prover (the ``prover:`` block of a run config, beside ``name``).
PROVER_SETTINGS: dict[str, type[BaseModel]] = {
    "agent": AgentSettings,
    "baseline": BaselineSettings,
    "openai": OpenAISettings,
    "replay": ReplaySettings,
}
_INT64 = 2**63 - 1  # bounds this wide only keep a number storable: not worth a reader's eye
_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    type(None): "null",
    Any: "any",
}


@dataclass(frozen=True)
class Table:
    """One model's keys under a heading; ``env`` lists them as ``PROVEBENCH_*`` variables."""

    heading: str
    intro: str
    model: type[BaseModel]
    env: bool = False


@dataclass(frozen=True)
class Section:
    """One kind of file: a heading, what the file is, and the tables of its models."""

    heading: str
    intro: str
    tables: tuple[Table, ...]
    extra: str = ""


def sections() -> list[Section]:
    """Every user-written file and the models that validate it, in the page's order."""
    provers = tuple(
        Table(
            f"`prover:` of `{name}`",
            f"The settings of the `{name}` prover, beside `name: {name}`.",
            model,
        )
        for name, model in PROVER_SETTINGS.items()
    )
    extensions = tuple(Table(f"Fields of `{ext.key}`", _extension_intro(ext), ext) for ext in builtin_extensions())
    return [
        Section(
            "Run config",
            "The YAML file of `provebench run --config FILE` (and the `config.yaml` a run directory keeps). Flags"
            " override its keys; unknown keys are errors. Relative paths are relative to the file.",
            (
                Table("Run config keys", "", RunConfig),
                Table("`prover:`", "Which prover; its other keys are that prover's settings (below).", ProverConfig),
                *provers,
                Table("`prices:` of `openai`", "", Prices),
            ),
        ),
        Section(
            "Portfolio file",
            "The `baseline` prover's tactics (its `portfolio:` setting): a YAML list, one entry per strategy;"
            " attempt i of a problem tries entry i, wrapping around.",
            (Table("Each entry", "", Strategy),),
        ),
        Section(
            "Prompt folder",
            "The `openai` prover's `prompt_dir:` holds one folder per proof system (`hol-light/`, `lean4/`), each"
            " with Jinja2 templates rendered in Jinja2's sandbox; an unknown value is an error.",
            (),
            extra=prompt_variables(),
        ),
        Section(
            "Prompt preset (`preset.yaml`)",
            "A bundled prompt preset is a folder under `provebench/prompts/presets/` with the templates of a prompt"
            " folder (above) and `preset.yaml`; `prompt: NAME` in the `openai` prover's settings selects it"
            " ([Prompt presets](../guides/prompt-presets.md)).",
            (
                Table("`preset.yaml` keys", "", PresetManifest),
                Table("`extract:`", _first_sentence(Extraction.__doc__), Extraction),
                Table("`suite_prompt:`", _first_sentence(SuitePromptSpec.__doc__), SuitePromptSpec),
            ),
        ),
        Section(
            "`suite.yaml`",
            "A suite is a folder with `suite.yaml` and its problems file; both are validated when it loads.",
            (
                Table("`suite.yaml` keys", "", SuiteManifest),
                Table("`benchmark_layout:`", _first_sentence(BenchmarkLayout.__doc__), BenchmarkLayout),
            ),
        ),
        Section(
            "Problems file",
            "The suite's `problems_file`: a YAML list, or JSONL with one problem per line. Beside the keys every"
            " problem has, a problem of some proof systems may have the fields of an extension.",
            (Table("Each problem", "", ProblemEntry), *extensions),
        ),
        Section(
            "`board.yaml`",
            "A leaderboard folder's pins. `leaderboard add` writes it for a new board from its first entry;"
            " `leaderboard republish` re-pins it.",
            (
                Table("`board.yaml` keys", "", BoardConfig),
                Table("`suite:`", _first_sentence(SuiteRef.__doc__), SuiteRef),
                Table("Each of `checkers:`", _first_sentence(CheckerInfo.__doc__), CheckerInfo),
            ),
        ),
        Section(
            "Environment settings",
            f"Settings read from `{ENV_PREFIX}*` environment variables by every command; a command's flags"
            " (`--backend`, `--checkers`, `--memory-mb`, ...) and a run config's `checkers` override them.",
            (Table("Variables", "", Settings, env=True),),
        ),
    ]


def builtin_extensions() -> list[type[ProblemExtension]]:
    """The problem extensions provebench ships, by key (not those an installed package or a test registers)."""
    known = problem_extensions.known_extensions().values()
    return sorted((e for e in known if e.__module__ in problem_extensions.BUILT_IN), key=lambda e: e.key)


def _extension_intro(ext: type[ProblemExtension]) -> str:
    """Which problems an extension's fields are for, and what it is."""
    kinds = "" if len(ext.kinds) == len(Kind) else " of kind " + ", ".join(sorted(f"`{k.value}`" for k in ext.kinds))
    needed = "; every such problem needs them" if ext.required else ""
    return f"For {ext.system.value} problems{kinds}{needed}. {_first_sentence(ext.__doc__)}"


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").split("\n\n", 1)[0].split())
    return text.replace("``", "`")


def prompt_variables() -> str:
    """The files of a prompt folder and the values its templates see."""
    problem = ", ".join(f"`problem.{name}`" for name in Problem.model_fields if name != "extensions")
    previous = ", ".join(f"`{f.name}`" for f in dataclasses.fields(PreviousAttempt))
    files = " and ".join(f"`{name}`" for name in TEMPLATE_NAMES)
    return (
        f"- Files: {files} (the system and the user message; a system template that renders nothing sends no"
        f" system message), and for `api: completions` `{RAW_TEMPLATE}` (the raw prompt, sent exactly as rendered;"
        " without it, the other two joined by a blank line). They may include other files of their folder.\n"
        f"- `system`: the proof system's name.\n"
        f"- {problem}, and every extension field of the problem's system (see the problems file below;"
        " absent: its default, or null).\n"
        f"- `history`: the failed earlier rounds of the sample, in a repair round, each with {previous}.\n"
    )


def _comments(model: type) -> dict[str, str]:
    """Each attribute's comment in a class's source: the comment lines just above it and those on its lines."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):  # a class made at run time has no source
        return {}
    lines = source.splitlines()
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    found = {}
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line in comments and lines[line - 1].lstrip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        beside = [comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1) if n in comments]
        if above or beside:
            found[node.target.id] = " ".join(above + beside)
    return found


def description(model: type[BaseModel], name: str) -> str:
    """A key's description: its field's, else its comment in the source of the class that declares it."""
    field = model.model_fields[name]
    if field.description:
        return field.description
    for cls in model.__mro__:
        if name in getattr(cls, "__annotations__", {}):
            return _comments(cls).get(name, "")
    return ""


def type_text(tp: Any) -> str:
    """A field's type as a YAML writer reads it."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return type_text(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(a) for a in args)
    if origin is Literal:
        return " or ".join(json.dumps(a) for a in args)
    if origin is tuple and args and args[-1] is not Ellipsis:
        return "[" + ", ".join(type_text(a) for a in args) + "]"
    if origin in (list, tuple, set, frozenset):
        return f"list[{type_text(args[0])}]" if args else "list"
    if origin is dict:
        return f"mapping[{type_text(args[0])}, {type_text(args[1])}]" if args else "mapping"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " or ".join(json.dumps(m.value) for m in tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "mapping"
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _number(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _bounds(items: list[Any]) -> Iterator[str]:
    """Each bound in a field's metadata (and in that of the annotated types it is made of)."""
    for item in items:
        if isinstance(item, FieldInfo):
            yield from _bounds(item.metadata)
        elif isinstance(item, annotated_types.Ge) and abs(item.ge) < _INT64:  # type: ignore[arg-type]
            yield f"≥ {_number(item.ge)}"
        elif isinstance(item, annotated_types.Gt):
            yield f"> {_number(item.gt)}"
        elif isinstance(item, annotated_types.Le) and abs(item.le) < _INT64:  # type: ignore[arg-type]
            yield f"≤ {_number(item.le)}"
        elif isinstance(item, annotated_types.Lt):
            yield f"< {_number(item.lt)}"
        elif isinstance(item, annotated_types.MinLen) and item.min_length:
            yield "not empty" if item.min_length == 1 else f"length ≥ {item.min_length}"
        elif isinstance(item, annotated_types.MaxLen):
            yield f"length ≤ {item.max_length}"
        elif getattr(item, "pattern", None):
            yield f"matching `{item.pattern}`"


def _annotated_metadata(tp: Any) -> list[Any]:
    """The metadata of every ``Annotated`` inside a type (``TimeoutSeconds | None`` bounds its float)."""
    if get_origin(tp) is Annotated:
        return list(get_args(tp)[1:])
    return [m for arg in get_args(tp) for m in _annotated_metadata(arg)]


def bounds_text(field: FieldInfo) -> str:
    """A field's bounds, comma-separated."""
    return ", ".join(_bounds([*field.metadata, *_annotated_metadata(field.annotation)]))


def default_text(field: FieldInfo) -> str:
    """A field's default as it would be written in YAML, or what stands in for one."""
    if field.is_required():
        return "required"
    if field.default_factory is not None and field.default_factory not in (list, dict, tuple, set):
        if not (isinstance(field.default_factory, type) and issubclass(field.default_factory, BaseModel)):
            return "computed"
    value = to_jsonable_python(field.get_default(call_default_factory=True))
    if isinstance(value, str) and value.startswith(str(Path.home()) + "/"):
        value = "~" + value[len(str(Path.home())) :]  # the reader's home, not the builder's
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    """Text fit for a table cell: one line; outside code, pipes escaped and ``<word>`` shown, not taken for HTML."""
    parts = text.replace("``", "`").replace("\n", " ").split("`")
    escaped = [p.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for p in parts[::2]]
    parts[::2] = escaped
    return "`".join(parts)


def table(t: Table) -> str:
    """The markdown table of a model's keys, after a comment naming the model (the test finds it by that)."""
    model = t.model
    rows = [
        f"<!-- model: {model.__module__}.{model.__qualname__} -->",
        "",
        "| key | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        key = f"{ENV_PREFIX}{name.upper()}" if t.env else name
        kind = type_text(field.annotation)
        bounds = bounds_text(field)
        rows.append(
            f"| `{key}` | {_cell(kind + (f', {bounds}' if bounds else ''))} | {_cell(default_text(field))} "
            f"| {_cell(description(model, name))} |"
        )
    return "\n".join(rows) + "\n"


def reference() -> str:
    """The markdown of every configuration file: one section per file, one table per model."""
    out = []
    for section in sections():
        out.append(f"## {section.heading}\n\n{section.intro}\n")
        if section.extra:
            out.append(section.extra)
        for t in section.tables:
            out.append(f"### {t.heading}\n")
            if t.intro:
                out.append(f"{t.intro}\n")
            out.append(table(t))
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Fill the configuration reference page's marker (MkDocs event)."""
    if page.file.src_path == "reference/config.md":
        return markdown.replace(MARKER, reference())
    return markdown
