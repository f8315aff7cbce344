"""What goes into an image's build context: its recipe's files, its outside source, the texts to compile."""

from __future__ import annotations

import shutil
from pathlib import Path

from provebench.containers.recipes import ImageRecipe, Progress, context_files
from provebench.containers.sources import SourceTree


def assemble_build_context(
    r: ImageRecipe, root: Path, source: SourceTree | None, into: Path, progress: Progress
) -> None:
    """Fill the folder ``into`` with the build context of ``r`` (from the recipes under ``root``)."""
    for rel, path in context_files(r, root):
        dest = into / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    if source is not None:
        progress(f"copying {source.name} {source.revision[:12]} into the build context")
        shutil.copytree(source.path, into / source.name, ignore=shutil.ignore_patterns(".git"))
        _write_contexts(r, source.path, into / "contexts", progress)


def _write_contexts(r: ImageRecipe, source: Path, into: Path, progress: Progress) -> None:
    """The texts of the recipe's contexts as a checker would be sent them, for the image to compile.

    The folder is made for every image built from a source (its Dockerfile copies it); only native
    images have contexts to write into it.
    """
    from provebench.systems.hol_light.template_text import TemplateText  # the one definition of a template's text

    into.mkdir()
    for name, rel in r.contexts:
        progress(f"writing context {name}: {rel} with its includes, proofs admitted")
        (into / f"{name}.ml").write_text(TemplateText.admitted_prefix(source, rel).text(), encoding="utf-8")
