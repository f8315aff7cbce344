#!/usr/bin/env python3
"""Mutation testing of the code that guards verdicts, and its score per module.

mutmut (configured in pyproject.toml's [tool.mutmut]: which modules, which tests) changes one thing at a
time in the modules that vet proofs, decide verdicts, verify bundles and boards, resume runs and
authenticate the service, and runs the unit tests that reach the changed function. A mutant the tests
do not notice (survived) or no test reaches (no tests) is a guarantee that could break silently.

Slow (hours on two cores), so not part of ``make test``:

    .venv/bin/python scripts/mutation.py            # run what is not yet checked, then print the scores
    .venv/bin/python scripts/mutation.py --report   # only print the scores of the last run
    .venv/bin/mutmut show NAME                      # one mutant's diff

A survivor that no test can kill (an equivalent mutant, or one only the Docker tests reach) is explained in
``tests/mutation/<module>.yaml`` (entries ``mutant``, ``change``, ``why``); the report counts the survivors left
unexplained, lists them, and exits 1 while any is left.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
# "    provebench.boards.bundle.x_pack__mutmut_3: survived" (methods appear as xǁClassǁmethod).
LINE = re.compile(r"^\s*(?P<module>provebench(?:\.\w+)*?)\.x(?:_|ǁ)\S*__mutmut_\d+: (?P<status>.+)$")
CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}
UNCAUGHT = {"survived", "no tests", "suspicious"}
EXPLAINED = ROOT / "tests" / "mutation"


def statuses(results: str) -> dict[str, tuple[str, str]]:
    """Each mutant's module and status, from ``mutmut results --all true``."""
    found: dict[str, tuple[str, str]] = {}
    for line in results.splitlines():
        if m := LINE.match(line):
            found[line.split(":")[0].strip()] = (m["module"], m["status"])
    return found


def explained(folder: Path = EXPLAINED) -> dict[str, str]:
    """The survivors explained in ``folder``'s YAML files: mutant name -> why no test kills it."""
    reasons: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if not (isinstance(entry, dict) and entry.get("mutant") and entry.get("why")):
                raise SystemExit(f"mutation: {path.name}: every entry needs `mutant` and `why`: {entry!r}")
            reasons[str(entry["mutant"])] = str(entry["why"])
    return reasons


def report(found: dict[str, tuple[str, str]], reasons: dict[str, str]) -> tuple[str, list[str]]:
    """One line a module, and the survivors left unexplained.

    A line: caught of judged, what was not caught and how much of that is explained.
    """
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    left: list[str] = []
    for name, (module, status) in found.items():
        by_module[module][status] += 1
        if status in UNCAUGHT:
            if name in reasons:
                by_module[module]["explained"] += 1
            else:
                left.append(name)
    rows = [
        f"{'module':40} {'score':>7} {'caught':>7} {'survived':>9} {'no tests':>9} {'explained':>10} {'unchecked':>10}"
    ]
    for module, counts in sorted(by_module.items()):
        caught = sum(counts[s] for s in CAUGHT)
        judged = caught + sum(counts[s] for s in UNCAUGHT)
        score = f"{100 * caught / judged:6.1f}%" if judged else "     -"
        rows.append(
            f"{module:40} {score:>7} {caught:7d} {counts['survived']:9d} {counts['no tests']:9d} "
            f"{counts['explained']:10d} {counts['not checked']:10d}"
        )
    return "\n".join(rows), sorted(left)


def main() -> int:
    """Run mutmut (unless ``--report``) and print the per-module scores."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true", help="only print the scores of the last run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    args = parser.parse_args()
    if not MUTMUT.exists():
        print(f"mutation: {MUTMUT} not found; install the dev extra (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    # The Kimina API tests find their client's venv from the project root, which mutmut moves to mutants/.
    env = {**os.environ, "PROVEBENCH_KIMINA_PYTHON": str(ROOT / ".venv-kimina" / "bin" / "python")}
    if not args.report:
        subprocess.run([str(MUTMUT), "run", "--max-children", str(args.jobs)], cwd=ROOT, env=env, check=False)
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    found = statuses(done.stdout)
    if not found:
        print("mutation: no results yet; run without --report first", file=sys.stderr)
        return 1
    table, left = report(found, explained())
    print(table)
    if left:
        print(f"\n{len(left)} survivors neither killed nor explained in {EXPLAINED.relative_to(ROOT)}/:")
        print("\n".join(f"  {name}" for name in left))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
