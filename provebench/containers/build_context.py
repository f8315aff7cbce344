"""What goes into an image's build context: its recipe's files, its outside source, the texts to compile."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from provebench.containers.recipes import ImageRecipe, Progress, context_files
from provebench.containers.sources import SourceTree

# The text of a file of a source tree (root, the file under it) as a checker is sent it, includes expanded and
# proofs admitted. Handed in by the caller: its one definition is HOL Light's (systems.hol_light.template_text,
# above containers), which a native image must compile to exactly the text that checker later sends.
ContextText = Callable[[Path, str], str]


def assemble_build_context(
    r: ImageRecipe,
    root: Path,
    source: SourceTree | None,
    into: Path,
    progress: Progress,
    context_text: ContextText | None = None,
) -> None:
    """Fill the folder ``into`` with the build context of ``r`` (from the recipes under ``root``)."""
    for rel, path in context_files(r, root):
        dest = into / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    if source is not None:
        progress(f"copying {source.name} {source.revision[:12]} into the build context")
        shutil.copytree(source.path, into / source.name, ignore=shutil.ignore_patterns(".git"))
        _write_contexts(r, source.path, into / "contexts", progress, context_text)


def _write_contexts(
    r: ImageRecipe, source: Path, into: Path, progress: Progress, context_text: ContextText | None
) -> None:
    """The texts of the recipe's contexts as a checker would be sent them, for the image to compile.

    The folder is made for every image built from a source (its Dockerfile copies it); only native
    images have contexts to write into it.
    """
    into.mkdir()
    if not r.contexts:
        return
    if context_text is None:
        raise ValueError(f"{r.name} compiles contexts: its build needs their text (context_text)")
    for name, rel in r.contexts:
        progress(f"writing context {name}: {rel} with its includes, proofs admitted")
        (into / f"{name}.ml").write_text(context_text(source, rel), encoding="utf-8")
