"""The docs hold what they promise: the whole command line, every config key, every verdict reason, every page."""

from __future__ import annotations

import argparse
import re
import types
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from provebench.boards.board import BoardConfig
from provebench.cli.args import build_parser
from provebench.core.model import Problem, Reason, Status
from provebench.core.settings import Settings
from provebench.provers import registry
from provebench.provers.baseline import Strategy
from provebench.runs.config import RunConfig
from provebench.suites import extensions
from provebench.suites.load import ProblemEntry, SuiteManifest
from tests.load_by_path import load_by_path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _hook() -> ModuleType:
    return load_by_path(DOCS / "hooks" / "cli_reference.py", "cli_reference_hook")


def _config_hook() -> ModuleType:
    return load_by_path(DOCS / "hooks" / "config_reference.py", "config_reference_hook")


class _File:
    def __init__(self, src_path: str) -> None:
        self.src_path = src_path


class _Page:
    def __init__(self, src_path: str) -> None:
        self.file = _File(src_path)


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of ``parser`` and of every subcommand under it, hidden ones aside."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _flags(sub)
        elif action.help != argparse.SUPPRESS:
            found.update(action.option_strings)
    return found


def test_every_flag_of_every_command_is_in_the_cli_reference() -> None:
    reference = _hook().reference()
    flags = _flags(build_parser())
    assert len(flags) > 50  # the walk reached the subcommands
    missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", reference))
    assert not missing, f"flags missing from the CLI reference: {missing}"


def test_the_cli_reference_page_is_filled_by_the_hook() -> None:
    hook = _hook()
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert hook.MARKER in page

    filled = hook.on_page_markdown(page, page=_Page("reference/cli.md"))
    assert hook.MARKER not in filled and "## `provebench leaderboard add`" in filled


def _nested_models(tp: Any) -> set[type[BaseModel]]:
    """The models a field's type is made of (``list[CheckerInfo]``, ``Prices | None``, ...)."""
    if isinstance(tp, type) and not isinstance(tp, types.GenericAlias) and issubclass(tp, BaseModel):
        return {tp}
    return {m for arg in get_args(tp) for m in _nested_models(arg)}


def _user_written_models() -> set[type[BaseModel]]:
    """Every model a file a user writes is validated by: each file's own, and every model nested in them."""
    provers = _config_hook().PROVER_SETTINGS
    assert set(provers) == set(registry.BUILT_IN), "the config reference documents every built-in prover's settings"
    todo: list[type[BaseModel]] = [
        RunConfig,
        *provers.values(),
        Strategy,
        SuiteManifest,
        ProblemEntry,
        *(e for e in extensions.known_extensions().values() if e.__module__ in extensions.BUILT_IN),
        BoardConfig,
        Settings,
    ]
    found: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model not in found:
            found.add(model)
            todo.extend(m for f in model.model_fields.values() for m in _nested_models(f.annotation))
    return found


def _documented_keys(page: str) -> dict[str, dict[str, str]]:
    """The keys of each model's table in the config reference, with their descriptions, by the model's name."""
    parts = re.split(r"^<!-- model: (\S+) -->$", page, flags=re.M)
    return {
        name: dict(re.findall(r"^\| `([^`]+)` \|.*\| (.*?) ?\|$", block.split("\n#", 1)[0], re.M))
        for name, block in zip(parts[1::2], parts[2::2], strict=True)
    }


def test_every_key_of_every_config_file_is_in_the_config_reference_with_a_description() -> None:
    documented = _documented_keys(_config_hook().reference())
    models = _user_written_models()
    assert len(models) >= 15  # the walk reached the nested models (prover:, prices:, benchmark_layout:, ...)
    for model in models:
        name = f"{model.__module__}.{model.__qualname__}"
        assert name in documented, f"the config reference has no table of {name}"
        prefix = "PROVEBENCH_" if model is Settings else ""
        keys = {prefix + (k.upper() if prefix else k) for k in model.model_fields}
        missing, extra = sorted(keys - set(documented[name])), sorted(set(documented[name]) - keys)
        assert not missing and not extra, f"{name}: keys missing from the config reference {missing}, extra {extra}"
        undescribed = sorted(k for k, text in documented[name].items() if not text.strip())
        assert not undescribed, f"{name}: keys without a description: {undescribed}"


def test_the_config_reference_names_every_value_a_prompt_template_sees() -> None:
    reference = _config_hook().reference()
    missing = [f for f in Problem.model_fields if f != "extensions" and f"`problem.{f}`" not in reference]
    assert not missing, f"problem fields missing from the prompt folder's section: {missing}"


def test_the_config_reference_page_is_filled_by_the_hook() -> None:
    hook = _config_hook()
    page = (DOCS / "reference" / "config.md").read_text(encoding="utf-8")
    assert hook.MARKER in page
    filled = hook.on_page_markdown(page, page=_Page("reference/config.md"))
    assert hook.MARKER not in filled and "| `PROVEBENCH_CHECKERS` |" in filled
    assert hook.on_page_markdown(page, page=_Page("reference/cli.md")) == page


def test_every_verdict_reason_is_in_the_verdicts_page() -> None:
    page = (DOCS / "reference" / "verdicts.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| ([A-Z]+) \|", page, re.M))
    assert {r.value for r in Reason} == set(rows), "the verdicts page lists exactly the reasons"
    assert set(rows.values()) == {s.value for s in Status}


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)

    def entries(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [p for v in node.values() for p in entries(v)]
        if isinstance(node, list):
            return [p for v in node for p in entries(v)]
        return []

    nav = entries(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages


def test_the_readme_is_a_front_door_whose_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make \w+", setup, re.M)
    assert commands == ["make demo", "make test"], "the README holds exactly the two set-up commands"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).is_file(), f"README links to {target}, which is not there"
