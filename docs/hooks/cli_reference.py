"""MkDocs hook: the CLI reference page is generated from provebench's own argparse parser.

`docs/reference/cli.md` holds the marker below; at build time it becomes every command's and
subcommand's `--help`, so the reference cannot drift from the parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from provebench.cli.args import build_parser

MARKER = "<!-- cli-reference -->"
WIDTH = 100


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every parser under ``parser`` (itself first), with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def reference() -> str:
    """The markdown of the whole command line: one section per command, its help as printed."""
    out = []
    for path, parser in commands(build_parser()):
        parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=WIDTH)
        title = " ".join(("provebench", *path))
        out.append(f"## `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Fill the CLI reference page's marker (MkDocs event)."""
    if page.file.src_path == "reference/cli.md":
        return markdown.replace(MARKER, reference())
    return markdown
