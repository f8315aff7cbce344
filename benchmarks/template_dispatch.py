"""Handing template runs to checkers by shared loading, against schedule order, measured in one process.

Two families of HOL Light core templates, each family sharing a leading text
that takes a while to load (as s2n-bignum's arm and x86 files share their
base.ml), are checked as one batch on two warm checkers (the hol-light image).
Schedule order (longest timeouts first) lists one family's templates first, so
handing runs out in that order has both checkers load that family's text; by
shared loading, each checker takes one family. Prints the batch's wall time
each way (checkers started, walked and checked), and the ratio.

    .venv/bin/python benchmarks/template_dispatch.py [--work 2000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from provebench.checking.engine import Engine
from provebench.checking.registry import make_group_verifier
from provebench.core.model import Problem, Status
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.suites.load import Suite, load_suite

FAMILIES = {"a": (90, 80), "b": (70, 60)}  # family -> its templates' timeouts: schedule order a1, a2, b1, b2


def _suite(root: Path, work: int) -> Suite:
    (root / "templates").mkdir(parents=True)
    problems = []
    for fam, timeouts in FAMILIES.items():
        # The family's shared text: many small arithmetic proofs (the cost of loading a proof file's own part).
        shared = (
            f"let {fam.upper()}_WORK = for i = 1 to {work} do\n"
            "  ignore (i, ARITH_RULE `x + 2 * y + 3 <= 3 * x + 4 * y + 3`) done;;\n"
        )
        for i, timeout in enumerate(timeouts, 1):
            name = f"{fam}{i}.ml"
            text = shared + f"let {fam.upper()}{i}_OWN = prove(`{i} + {i} = {2 * i}`, ARITH_TAC);;\n"
            (root / "templates" / name).write_text(text)
            problems.append(
                {
                    "id": f"{fam}{i}",
                    "statement": f"{i} + {i} = {2 * i}",
                    "template": f"templates/{name}",
                    "template_line": 3,
                    "timeout_s": timeout,
                }
            )
    manifest = "name: dispatch-bench\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"
    (root / "suite.yaml").write_text(manifest + "problems_file: problems.jsonl\n")
    (root / "problems.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems))
    return load_suite(root)


def _schedule_order(problems: Sequence[Problem], settings: Settings) -> Verifier:
    """The same verifier, telling the batch nothing of shared loading: runs go out in schedule order."""
    verifier = make_group_verifier(problems, settings)
    verifier.shared_loading = lambda _p, others: [0] * len(others)  # type: ignore[method-assign,assignment]
    return verifier


def _batch(suite: Suite, settings: Settings, by_loading: bool) -> float:
    engine = Engine(settings, make=make_group_verifier if by_loading else _schedule_order)
    t0 = time.perf_counter()
    try:
        verdicts = list(engine.map([(p, "ARITH_TAC") for p in suite.problems], None, settings.checkers))
    finally:
        engine.close()
    wall = time.perf_counter() - t0
    if any(v.status is not Status.PASS for v in verdicts):
        raise SystemExit(f"a check did not pass: {[(v.status.value, v.messages) for v in verdicts]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=int, default=2000, help="arithmetic proofs in each family's shared text")
    ap.add_argument("--repeat", type=int, default=1, help="batches each way, interleaved")
    args = ap.parse_args()
    settings = Settings(checkers=2, apt_ignore_valid_until=True)
    with tempfile.TemporaryDirectory(prefix="provebench-bench-") as tmp:
        suite = _suite(Path(tmp), args.work)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):
            for by_loading in (False, True):
                times[by_loading].append(_batch(suite, settings, by_loading))
                print(f"{'by shared loading' if by_loading else 'schedule order'}: {times[by_loading][-1]:.1f} s")
    base, new = min(times[False]), min(times[True])
    print(f"4 templates in 2 families, 2 checkers: schedule order {base:.1f} s, by shared loading {new:.1f} s")
    print(f"  ratio (by shared loading / schedule order): {new / base:.2f}")


if __name__ == "__main__":
    main()
