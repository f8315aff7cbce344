"""A run's answers in a benchmark's own submission format (``provebench submit --format``).

``s2n-bignum-bench``: what its leaderboard asks for, a zip holding a single CSV with the
columns ``problem_id, category, query, answer`` and one row per problem (n = 1, no repair
rounds), the query being the benchmark's own text of the goal. ``--prover replay
--answers`` reads such a zip (or the CSV) back.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from provebench.core.errors import UserError
from provebench.core.names import SUBMISSION_FORMATS
from provebench.core.outputs import guard_output, write_atomic
from provebench.runs.run import RunDir
from provebench.runs.stats import latest_records
from provebench.suites.load import Suite, find_suite
from provebench.suites.s2n_query import benchmark_query

FORMATS = SUBMISSION_FORMATS
CSV_COLUMNS = ("problem_id", "category", "query", "answer")
CSV_MEMBER = "answers.csv"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so that the same answers give the same bytes


def s2n_bignum_bench_csv(rundir: RunDir, suites_dir: Path) -> tuple[str, int, Suite]:
    """The CSV text of a finished run of n = 1, its number of rows, and the suite it read."""
    config = rundir.config()
    if config.n != 1 or config.repair_rounds:
        raise UserError(
            f"{rundir.path}: the s2n-bignum-bench leaderboard takes one answer per problem; this run has n = "
            f"{config.n} and {config.repair_rounds} repair round(s) (run with -n 1 and no repair rounds)"
        )
    manifest = rundir.read_manifest()
    suite = find_suite(manifest.suite.path or manifest.suite.name, suites_dir)
    if suite.content_hash != manifest.suite.content_hash:
        raise UserError(f"{rundir.path}: the run's suite {suite.name} has changed since; its queries are not at hand")
    records = latest_records(rundir.records())
    problems = {p.id: p for p in suite.problems}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for pid in manifest.problem_ids():
        record = records.get((pid, 0, 0))
        if record is None:
            raise UserError(f"{rundir.path}: the run is incomplete; finish it with provebench run --resume")
        p = problems[pid]
        writer.writerow((p.id, p.category, benchmark_query(p), record.prover.proof or ""))
        rows += 1
    return out.getvalue(), rows, suite


def write_s2n_bignum_bench_zip(rundir: RunDir, target: Path, suites_dir: Path) -> int:
    """Write the leaderboard's zip of one CSV; the number of answers written."""
    text, rows, suite = s2n_bignum_bench_csv(rundir, suites_dir)
    guard_output(target, [*rundir.files(), *suite.files()], "answers")  # the suite's files are inputs too
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(CSV_MEMBER, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, text.encode("utf-8"))
    write_atomic(target, buffer.getvalue())
    return rows
