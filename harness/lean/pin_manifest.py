"""Make every package of a Lake manifest a path dependency on the copy already on disk (run at image build).

Checkers run with no network, so Lake must never try to fetch: each ``git`` package becomes a ``path``
package at ``.lake/packages/NAME``. Each keeps its own ``configFile``: Lake loads a package from the file
the manifest names, and Mathlib's dependencies are mostly ``lakefile.toml`` (v4.24.0: seven of eight).
With ``--root DIR`` every package's folder and config file must exist under DIR, so a manifest that
would fail at the first check fails the build instead.

Usage: python3 pin_manifest.py [--root DIR] lake-manifest.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

KEPT = ("scope", "name", "manifestFile", "inherited", "configFile")


def pinned(entry: dict[str, Any]) -> dict[str, Any]:
    """One manifest package as a path package at ``.lake/packages/NAME``, with its own fields kept."""
    missing = [k for k in KEPT if k not in entry]
    if missing:
        raise ValueError(f"package {entry.get('name', '?')!r} has no {', '.join(missing)}")
    out = {"type": "path"} | {k: entry[k] for k in KEPT}
    out["dir"] = f".lake/packages/{entry['name']}"
    return out


def pin(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with every package pinned to its folder on disk."""
    return manifest | {"packages": [pinned(p) for p in manifest["packages"]]}


def missing_files(manifest: dict[str, Any], root: Path) -> list[str]:
    """Each pinned package whose config file is not where Lake will look for it."""
    return [
        f"{p['name']}: {p['dir']}/{p['configFile']}"
        for p in manifest["packages"]
        if not (root / p["dir"] / p["configFile"]).is_file()
    ]


def main() -> int:
    """Rewrite the manifest in place; exit 1 naming what is missing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--root", type=Path, help="the project folder: check each package's config file is there")
    args = parser.parse_args()
    manifest = pin(json.loads(args.manifest.read_text()))
    if args.root is not None and (missing := missing_files(manifest, args.root)):
        print(f"pin_manifest: config files missing: {'; '.join(missing)}", file=sys.stderr)
        return 1
    args.manifest.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
