"""``provebench images build|list|prune``, and the images a command needs, built first with visible progress."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from rich.table import Table

from provebench import containers
from provebench.cli.consoles import dim, err, out
from provebench.cli.exit_codes import EXIT_OK
from provebench.containers import sources
from provebench.containers.build_progress import BuildProgress
from provebench.containers.engine import DockerEngine
from provebench.core.settings import Backend, Settings
from provebench.systems.hol_light.template_text import compiled_context_text


def ensure_images(settings: Settings, names: set[str]) -> None:
    """Build missing images with visible progress before a verifier needs them."""
    if settings.backend is Backend.LOCAL or settings.server is not None:
        return
    engine = DockerEngine(settings)
    build = settings.checker_build.value if settings.checker_build is not None else None
    for name in sorted({containers.image_for_build(n, build) for n in names}):
        r, revision = containers.parse_image_ref(name)
        if engine.find_image(r, revision) is None:
            err.print(f"[bold]building checker image {name}[/] (first use)")
            with BuildProgress(err, settings.cache_dir / "logs", name) as progress:
                engine.ensure_image(r, progress, revision)


def cmd_images(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench images build|list|prune``."""
    engine = DockerEngine(settings, compiled_context_text)
    if args.images_command == "build":
        with ExitStack() as stack:
            source = None
            if args.s2n_bignum_src:
                source = sources.SourceTree.from_checkout("s2n-bignum", Path(args.s2n_bignum_src))
            elif args.s2n_bignum or "hol-light-s2n" in args.names:
                ref = args.s2n_bignum or containers.DEFAULT_SOURCES["s2n-bignum"]
                source = stack.enter_context(sources.fetched_source("s2n-bignum", ref, dim))
            names = args.names or sorted(n for n, r in containers.RECIPES.items() if r.source is None or source)
            for name in names:
                r = containers.recipe(name)
                tree = source if r.source is not None else None
                info = None if args.rebuild else engine.find_image(r, tree.revision if tree else None)
                if info is None:
                    err.print(f"[bold]building {name}[/]")
                    with BuildProgress(err, settings.cache_dir / "logs", name) as progress:
                        info = engine.build_image(r, progress, tree)
                out.print(
                    f"{info.name}  {info.tag}  {info.digest}  {info.version}  packages {info.packages}", markup=False
                )
        return EXIT_OK
    if args.images_command == "prune":
        return _prune_images(engine, dry_run=args.dry_run)
    images = engine.list_images()
    if args.json:
        print(json.dumps([vars(i) for i in images], indent=2))
        return EXIT_OK
    if not images:
        out.print("no checker images built yet (provebench images build)")
        return EXIT_OK
    # No borders and a short digest: a tag (it names the image) fits whole in 80 columns.
    table = Table("tag", "digest", "size", "current", box=None, pad_edge=False, collapse_padding=True)
    for i in images:
        current = "yes" if engine.is_current(i) else "no"
        table.add_row(i.tag, i.digest.removeprefix("sha256:")[:12], f"{i.size_bytes / 1e9:.2f} GB", current)
    out.print(table)
    versions = sorted({i.version for i in images})
    out.print(f"proof-system version{'s' if len(versions) > 1 else ''}: {', '.join(versions)} (--json: per image)")
    return EXIT_OK


def _prune_images(engine: DockerEngine, dry_run: bool) -> int:
    images = engine.list_images()
    stale = [i for i in images if not engine.is_current(i)]
    if not stale:
        out.print(f"no stale checker images ({len(images)} current)")
        return EXIT_OK
    before = 0 if dry_run else engine.layers_bytes()
    kept = 0
    for i in stale:
        if dry_run:
            out.print(f"would remove {i.tag}  {i.digest[:19]}", markup=False)
            continue
        why = engine.remove_image(i)
        kept += why is not None
        out.print(f"removed {i.tag}" if why is None else f"kept {i.tag}: {why}", markup=False)
    if not dry_run:
        freed = max(0, before - engine.layers_bytes())
        out.print(f"removed {len(stale) - kept} stale image(s), freed {freed / 1e9:.2f} GB; kept {kept} in use")
    return EXIT_OK
