"""The command line's grammar: every subcommand and option, importing nothing heavy.

``provebench --help`` and ``provebench check --server ...`` build this parser before anything else,
so it names choices from ``provebench.core.names`` rather than from the registries themselves.
"""

from __future__ import annotations

import argparse
from typing import Any

from provebench import __version__
from provebench.cli.mcp_args import add_mcp_parser
from provebench.cli.options import COUNT, PORT, Parser, common_options, executor_options, server_option, suppressed
from provebench.cli.recheck_args import add_import_inspect_parser, add_recheck_parser
from provebench.cli.serve_args import add_serve_parser
from provebench.core.bounded import bounded_float, bounded_int, finite_seconds
from provebench.core.names import CHECKER_BUILDS, DEFAULT_S2N_BIGNUM, IMAGES, PROVERS, SUBMISSION_FORMATS, SYSTEMS

# Every number on the command line is finite and in range before any command sees it (docs/guides/check.md).
_ROUNDS = bounded_int(0, 100, "a number of rounds")
_SEED = bounded_int(-(2**63), 2**63 - 1, "a seed")
_FRACTION = bounded_float(0, 1, "a fraction")


def build_parser() -> argparse.ArgumentParser:
    """The ``provebench`` parser, every subcommand included."""
    p = Parser(
        prog="provebench",
        description="Run formal theorem-proving benchmarks with pinned, sandboxed proof checkers.",
        epilog="Exit codes: 0 PASS or success, 1 another verdict, 2 bad usage or input, "
        "3 checker or prover unavailable, 130 interrupted (a run keeps its journal: resume it).",
    )
    p.add_argument("--version", action="version", version=f"provebench {__version__}")
    common = common_options()
    for action in common._actions:
        p._add_action(action)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    common = suppressed(common_options())
    c = sub.add_parser(
        "check",
        parents=[common],
        help="check one proof, or a batch of proofs",
        description="Check a proof of a suite problem (--suite/--problem) or of an ad-hoc goal (--system/--goal). "
        "With --batch, check every line of a JSONL file on warm checkers.",
    )
    c.add_argument("proof", nargs="?", default="-", help="proof file, or - for standard input (default)")
    c.add_argument("--suite", help="suite name or folder")
    c.add_argument("--problem", help="problem id in the suite")
    c.add_argument("--system", choices=SYSTEMS, help="proof system of --goal")
    c.add_argument("--goal", help="the statement to prove, e.g. '`!n. n + 0 = n`' for HOL Light")
    c.add_argument("--batch", metavar="FILE", help="JSONL: {proof, problem|goal, id?} per line; JSONL verdicts out")
    c.add_argument(
        "--timeout",
        type=finite_seconds,
        help="seconds per check, at most the problem's own (default: the problem's, or 30 for goals)",
    )
    c.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    server_option(c)
    executor_options(c)

    i = sub.add_parser("images", help="build and list checker images")
    isub = i.add_subparsers(dest="images_command", required=True, parser_class=Parser)
    b = isub.add_parser(
        "build", parents=[common], help="build checker images (all by default); a current image is kept"
    )
    b.add_argument("names", nargs="*", help=f"images to build: {', '.join(IMAGES)}")
    b.add_argument(
        "--apt-ignore-valid-until", action="store_true", help="accept an expired Release file (frozen mirrors)"
    )
    b.add_argument(
        "--rebuild",
        action="store_true",
        help="build the named images even if current (the same tag, built anew: e.g. to recompile the contexts"
        " of hol-light-s2n-native after a provebench upgrade changed their text)",
    )
    where = b.add_mutually_exclusive_group()
    where.add_argument(
        "--s2n-bignum",
        metavar="URL@COMMIT",
        help=f"fetch s2n-bignum for hol-light-s2n at this commit (default: {DEFAULT_S2N_BIGNUM})",
    )
    where.add_argument(
        "--s2n-bignum-src",
        metavar="CHECKOUT",
        help="build hol-light-s2n from a git checkout of s2n-bignum instead (air-gapped; its HEAD commit is recorded)",
    )
    lst = isub.add_parser("list", help="list built checker images with their digests")
    lst.add_argument("--json", action="store_true")
    prune = isub.add_parser(
        "prune",
        help="remove checker images that are no longer current (each provebench upgrade that changes a "
        "checker builds a new one); images in use by a container are kept",
    )
    prune.add_argument("--dry-run", action="store_true", help="only list what would be removed")

    s = sub.add_parser("suites", help="list suites, check reference proofs")
    ssub = s.add_subparsers(dest="suites_command", required=True, parser_class=Parser)
    ssub.add_parser("list", help="bundled and imported suites")
    t = ssub.add_parser("selftest", parents=[common], help="check the suite's reference proofs with its checker")
    t.add_argument("suite", help="suite name or folder")
    t.add_argument("--sample", type=COUNT, help="check a random sample of this many problems")
    t.add_argument("--seed", type=_SEED, default=0, help="seed of the sample (default 0)")
    t.add_argument(
        "--max-timeout",
        type=finite_seconds,
        metavar="SECONDS",
        help="leave out problems whose timeout is longer (reported as left out): a quicker check of an image, "
        "since s2n-bignum's longest reference proofs take hours",
    )
    t.add_argument("--json", action="store_true")
    server_option(t)
    executor_options(t)
    t.add_argument(
        "--journal",
        metavar="FILE",
        help="append each verdict to this JSONL file; run again with the same file to check only what is "
        "not in it yet (selftests of large suites take hours)",
    )
    show = ssub.add_parser("show", help="what a suite holds: problems by kind and category")
    show.add_argument("suite", help="suite name or folder")
    show.add_argument("--problems", action="store_true", help="list the problem ids (with category and timeout)")
    show.add_argument("--category", action="append", help="with --problems: only this category (repeatable)")
    show.add_argument("--json", action="store_true")
    _import_parser(ssub)
    pv = sub.add_parser("provers", help="what the provers offer: prompt presets")
    pvsub = pv.add_subparsers(dest="provers_command", required=True, parser_class=Parser)
    presets = pvsub.add_parser(
        "presets",
        help="the bundled prompt presets: name, proof system, API, source",
        description="List the prompt presets of the openai prover (`prompt: NAME` in a run config, or "
        "--prompt NAME): each follows one prover model's documented prompt format and proof extraction.",
    )
    presets.add_argument(
        "--json", action="store_true", help="print them as JSON, with stop strings, extraction and suite prompt file"
    )
    _run_parsers(sub, common)
    _board_parsers(sub, common)
    add_serve_parser(sub, common)
    add_mcp_parser(sub, common)
    return p


def _import_parser(ssub: Any) -> None:
    """Add ``suites import``."""
    imp = ssub.add_parser(
        "import",
        help="import an upstream benchmark as a suite",
        description="Import CombiBench from its dataset JSONL or a CombiBench checkout; or s2n-bignum-bench as "
        "published (--revision: the problem set of the paper, or of the leaderboard's April 2026 results, "
        "reproduced from s2n-bignum's history), from its published artefacts (problems.json and ml_files/), or "
        "straight from any s2n-bignum checkout (every top-level theorem of every proof file; slow: minutes). The "
        "suite is written to the user's suite folder (or --out), never into provebench: the statements are the "
        "benchmark's.",
    )
    imp.add_argument("benchmark", choices=["combibench", "s2n-bignum"], help="which benchmark")
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="combibench: the dataset JSONL or a checkout; s2n-bignum: folder with problems.json and ml_files/",
    )
    src.add_argument("--from-source", metavar="S2N_CHECKOUT", help="s2n-bignum: an s2n-bignum checkout, at its HEAD")
    src.add_argument(
        "--revision",
        metavar="NAME",
        help="s2n-bignum: a published problem set: paper (2,284 problems), leaderboard-2026-04 (2,301) or "
        "refresh-2026-08 (2,622); the counts are checked",
    )
    imp.add_argument(
        "--s2n-bignum-src",
        metavar="CLONE",
        help="with --revision: a clone of s2n-bignum with its history (default: cloned from GitHub)",
    )
    imp.add_argument(
        "--bench-src",
        metavar="CLONE",
        help="with --revision: a clone of s2n-bignum-bench with its history, for the revision's timeout map "
        "(or give the map with --timeout-map; default: cloned from GitHub)",
    )
    imp.add_argument("--arch", choices=["arm", "x86", "all"], default="all", help="with --from-source (default all)")
    imp.add_argument(
        "--function",
        action="append",
        default=[],
        help="with --from-source: only this function's proof file and what it loads (repeatable)",
    )
    imp.add_argument("--timeout-map", metavar="FILE", help="the benchmark's timeout-map.json (per-problem timeouts)")
    imp.add_argument(
        "--timeout-scale",
        type=float,  # bounded by the command (cli_import), which names the flag
        default=None,
        metavar="X",
        help="s2n-bignum: multiply the benchmark's timeouts by X, which were set for its native build (default "
        "1 for native checkers; 4 with --checker bytecode: reference proofs took 3.3-5.2 times as long in the "
        "bytecode toplevel)",
    )
    imp.add_argument(
        "--checker",
        choices=CHECKER_BUILDS,
        default=argparse.SUPPRESS,
        help="s2n-bignum: the checkers the suite asks for (`checker` in suite.yaml; default native, which keeps "
        "the benchmark's own timeouts; bytecode multiplies them by 4)",
    )
    imp.add_argument("--s2n-commit", help="the s2n-bignum commit the artefacts were built from (recorded)")
    imp.add_argument("--out", help="suite folder to write (default: the user's suite folder/<name>)")


def _run_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``run`` and ``report`` subcommands."""
    r = sub.add_parser(
        "run",
        parents=[common],
        help="run a prover against a whole suite",
        description="Run a prover over every problem of a suite (n samples each, optional repair rounds), check "
        "every proof on warm pinned checkers, journal every attempt, and print pass@k. Flags override --config. "
        "A run directory (--out, default runs/<time>-<suite>-<prover>) holds config.yaml, manifest.json, "
        "attempts.jsonl and summary.json; --resume RUNDIR continues an interrupted run.",
    )
    r.add_argument("--config", metavar="FILE", help="run config (YAML); flags given here override it")
    r.add_argument("--resume", metavar="RUNDIR", help="continue an interrupted run (its own config is used)")
    r.add_argument("--suite", help="suite name or folder")
    r.add_argument("--prover", choices=PROVERS, help="where proofs come from (default: baseline)")
    r.add_argument("--model", help="model name (openai prover)")
    r.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (openai prover)")
    r.add_argument("--api-key-env", help="environment variable holding the API key (default OPENAI_API_KEY)")
    r.add_argument(
        "--api",
        choices=["chat", "completions"],
        help="chat (messages) or completions (one raw prompt, as vLLM and SGLang serve base prover models) "
        "(openai prover; default: the prompt preset's API, else chat)",
    )
    r.add_argument(
        "--prompt",
        metavar="PRESET",
        help="a bundled prompt preset, e.g. deepseek-prover-v2 or s2n-bignum-bench (openai prover; "
        "`provebench provers presets` lists them)",
    )
    r.add_argument("--answers", metavar="FILE", help="answers file, CSV (problem_id, answer) or JSONL (replay)")
    r.add_argument("-n", "--samples", dest="n", type=COUNT, help="attempts per problem (default 1; 16 for combibench)")
    r.add_argument(
        "--protocol",
        choices=["provebench", "combibench"],
        help="combibench: also judge each proof as CombiBench's harness does (answer examples appended, "
        "compiled together) and report that score beside provebench's; n defaults to 16",
    )
    r.add_argument("-k", dest="k", help="pass@k values to report, comma-separated (default 1..n)")
    r.add_argument("--repair-rounds", type=_ROUNDS, help="feed checker messages back this many times (default 0)")
    r.add_argument("--prover-connections", type=COUNT, help="prover calls at once (default 8)")
    r.add_argument(
        "--no-cache",
        action="store_true",
        help="ask the prover's API for every reply, and keep none: the reply cache (PROVEBENCH_REPLY_CACHE_DIR, "
        "default <cache_dir>/replies) is neither read nor written",
    )
    r.add_argument(
        "--timeout",
        dest="timeout_s",
        type=finite_seconds,
        help="seconds per check, at most each problem's own (default: each problem's)",
    )
    r.add_argument("--infra-retries", type=_ROUNDS, help="retries of a check whose checker failed (default 2)")
    r.add_argument("--category", dest="categories", action="append", help="only this category (repeatable)")
    r.add_argument("--problem", dest="problems", action="append", help="only this problem id (repeatable)")
    r.add_argument("--problems-file", help="only the problem ids listed in this file, one per line")
    r.add_argument("--limit", type=COUNT, metavar="N", help="a random subset of N of the selected problems (seeded)")
    r.add_argument("--seed", type=_SEED, metavar="S", help="seed of --limit's subset (default 0; in the manifest)")
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved config and the plan (problems, samples, checkers, contexts, memory) and exit",
    )
    r.add_argument("--out", help="run directory to create (default runs/<time>-<suite>-<prover>)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON at the end")
    r.add_argument("--no-progress", action="store_true", help="no live progress bar")
    server_option(r)
    executor_options(r)

    rep = sub.add_parser(
        "report",
        help="print a run's summary again, or write its HTML report",
        description="Summarize a run directory from its journal. --html writes a self-contained HTML report "
        "(summary, pass@k curve, per-category chart, a filterable table of attempts whose rows open the proof, "
        "the prover's raw reply and the checker's messages); `provebench view RUNDIR` serves it on localhost.",
    )
    rep.add_argument("rundir", help="a run directory")
    form = rep.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the summary as JSON")
    form.add_argument("--html", action="store_true", help="write the HTML report (default RUNDIR/report.html)")
    rep.add_argument("--out", help="with --html: the file to write")

    add_recheck_parser(sub, common)
    add_import_inspect_parser(sub, common)


def _board_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``submit``, ``leaderboard`` and ``view``; ``report`` gets ``--html`` from cli_run."""
    s = sub.add_parser(
        "submit",
        help="pack a finished run as a leaderboard submission",
        description="Pack a finished run into a submission bundle (.tar.gz): a manifest (suite hash, checker "
        "digests, prover and sampling settings, prompt hashes, compute budget) and every attempt with its proof "
        "and verdict, validated against the submission schema shipped with provebench.",
    )
    s.add_argument("rundir", help="a finished run directory")
    s.add_argument(
        "--format",
        choices=SUBMISSION_FORMATS,
        default="provebench",
        help="provebench: a bundle for `leaderboard add` (default); s2n-bignum-bench: the zip of one CSV "
        "(problem_id, category, query, answer) that the s2n-bignum-bench leaderboard asks for (a run of n = 1)",
    )
    s.add_argument(
        "-o",
        "--out",
        help="file to write (default: RUNDIR/submission.tar.gz, or RUNDIR/answers.zip for s2n-bignum-bench)",
    )
    s.add_argument("--name", help="the entry's name on the board, e.g. 'My prover v2' (provebench format)")
    s.add_argument("--contact", help="how maintainers reach you (kept in the entry, not rendered; provebench format)")
    s.add_argument(
        "--open-data",
        choices=["full", "partial", "none"],
        help="what the board may publish: full (every proof and raw reply), partial (proofs of passing "
        "attempts), none (verdicts and counts only) (provebench format)",
    )

    lb = sub.add_parser("leaderboard", help="add entries to a leaderboard, republish, audit and render it")
    lsub = lb.add_subparsers(dest="leaderboard_command", required=True, parser_class=type(lb))
    a = lsub.add_parser(
        "add",
        parents=[common],
        help="re-verify a submission and add it to a board",
        description="Validate a bundle, re-check every claimed PASS (and a seeded sample of the other verdicts) on "
        "this machine's pinned checkers, and write the entry under the board only if every verdict reproduces. "
        "Checks run in parallel on --checkers warm checkers (default: one per core, as the memory budget "
        "allows). A new board pins the suite revision and checker images of its first entry. Interrupted "
        "re-verification resumes when the same command is run again.",
    )
    a.add_argument("bundle", help="a submission bundle (.tar.gz)")
    server_option(a)
    executor_options(a)
    a.add_argument("--board", required=True, help="board folder, e.g. leaderboards/hol-light-core")
    a.add_argument(
        "--sample",
        type=_FRACTION,
        metavar="FRACTION",
        help="fraction of non-PASS verdicts to re-check (default: the board's, 0.1 for a new board)",
    )
    rp = lsub.add_parser(
        "republish",
        parents=[common],
        help="re-verify a board's entries on this machine's checker and re-pin the board to it",
        description="Move a board to the current checker (after a change to the checker's recipe, its proof-system "
        "version or its packages): re-check every claimed PASS of every entry whose proofs the board publishes, and "
        "the same seeded sample of its other verdicts where all its proofs are published, on this machine's "
        "checker; re-pin the board to that checker's identity and render it again. Entries that publish no proofs, "
        "or whose verdicts no longer reproduce, are kept but not ranked, and listed: they need resubmission. "
        "Interrupted, the same command resumes; nothing under the board changes until every entry is checked.",
    )
    rp.add_argument("--board", required=True, help="board folder, e.g. leaderboards/hol-light-core")
    ve = lsub.add_parser(
        "verify",
        parents=[common],
        help="audit a board: re-check its published PASS proofs on this machine's checker",
        description="Re-check the published PASS proofs of every entry (all, or a seeded sample) on this machine's "
        "checker and print per entry how many reproduced. Writes nothing under the board. Exit 0 when every "
        "checked proof passed again, 1 otherwise.",
    )
    ve.add_argument("--board", required=True, help="board folder")
    ve.add_argument(
        "--sample",
        type=_FRACTION,
        metavar="FRACTION",
        default=1.0,
        help="fraction of each entry's PASS proofs (default 1)",
    )
    ve.add_argument("--seed", type=_SEED, default=0, help="seed of the sample (default 0)")
    r = lsub.add_parser("render", help="write a board's index.html and README.md")
    r.add_argument("--board", required=True, help="board folder")

    v = sub.add_parser(
        "view",
        help="serve a run's HTML report on localhost",
        description="Serve the HTML report of a run on 127.0.0.1 (re-rendered as the journal grows) until Ctrl-C.",
    )
    v.add_argument("rundir", help="a run directory")
    v.add_argument("--port", type=PORT, default=0, help="port on 127.0.0.1 (default: any free port)")
