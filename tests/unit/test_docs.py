"""The docs hold what they promise: the whole command line, every verdict reason, every page reachable."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import ModuleType

import yaml

from provebench.cli.args import build_parser
from provebench.core.model import Reason, Status
from tests.load_by_path import load_by_path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _hook() -> ModuleType:
    return load_by_path(DOCS / "hooks" / "cli_reference.py", "cli_reference_hook")


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

    class File:
        src_path = "reference/cli.md"

    class Page:
        file = File()

    filled = hook.on_page_markdown(page, page=Page())
    assert hook.MARKER not in filled and "## `provebench leaderboard add`" in filled


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
