"""``provebench provers presets``: the bundled prompt presets, each with its proof system, API and source."""

from __future__ import annotations

import argparse
import json

from provebench.cli.consoles import out
from provebench.cli.exit_codes import EXIT_OK
from provebench.core.settings import Settings
from provebench.provers.presets import all_presets


def cmd_provers(args: argparse.Namespace, settings: Settings) -> int:
    """``provebench provers presets``."""
    presets = all_presets()
    if args.json:
        listed = [
            {
                "name": p.name,
                "title": p.manifest.title,
                "system": p.manifest.system.value,
                "api": p.manifest.api,
                "apis": list(p.apis),
                "stop": list(p.manifest.stop),
                "extract": p.manifest.extract.model_dump(mode="json"),
                "sources": list(p.manifest.sources),
                # What a suite must keep for it: the prompt file it sends (null: its own templates).
                "suite_prompt": p.manifest.suite_prompt.model_dump() if p.manifest.suite_prompt else None,
            }
            for p in presets
        ]
        print(json.dumps(listed, indent=2))
        return EXIT_OK
    # Plain aligned lines, never wrapped or cut: the sources are URLs a reader copies.
    rows: list[tuple[str, str, str, str]] = [("name", "system", "API", "source")]
    rows += [(p.name, p.manifest.system.value, p.manifest.api, p.manifest.sources[0]) for p in presets]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)]
        out.print("  ".join([*cells, row[3]]), markup=False)
    out.print("Use one with `prompt: NAME` in the prover block of a run config, or `--prompt NAME`.", markup=False)
    return EXIT_OK
