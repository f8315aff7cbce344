"""s2n-bignum-bench's own prompt on a real clone of the benchmark: the suite keeps it byte for byte, and the
s2n-bignum-bench preset sends exactly it, with the problem's query in place of its placeholder.

The clone is the one PROVEBENCH_S2N_BENCH_SRC names, else a clone of the git bundle kept beside the project
(``../shared/datasets/upstream``, on these machines and in CI), made in a temporary folder: none of the
benchmark's text is in the project, and the expected prompt is read from the clone here.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from provebench.provers.openai_chat import OpenAIChatProver
from provebench.provers.registry import make_prover
from provebench.suites.load import load_suite
from provebench.suites.s2n_bignum import import_artefacts
from provebench.suites.s2n_revisions import REVISIONS, revision_bench_files
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble
from tests.s2n_sources import s2n_bench_checkout
from tests.unit.test_s2n_import import TEMPLATE, _problem

pytestmark = pytest.mark.s2n

PLACEHOLDER = "{query.txt}"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return s2n_bench_checkout(tmp_path_factory)


def _at(clone: Path, commit: str, path: str) -> bytes:
    done = subprocess.run(["git", "-C", str(clone), "show", f"{commit}:{path}"], capture_output=True, check=True)
    return done.stdout


def _sent(problem_folder: Path, problem_id: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The user message the s2n-bignum-bench preset sends for one problem of the suite in ``problem_folder``."""
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    suite = load_suite(problem_folder)
    problem = suite.problem(problem_id)
    with OpenAIApiDouble(lambda goal, asked: "ARITH_TAC") as api:
        prover = make_prover(
            "openai",
            {
                "model": api.model,
                "base_url": api.base_url,
                "api_key_env": "DOUBLE_API_KEY",
                "prompt": "s2n-bignum-bench",
            },
        )
        assert isinstance(prover, OpenAIChatProver)
        prover.prepare(suite.problems)

        async def go() -> None:
            try:
                await prover.attempt(problem, 0, ())
            finally:
                await prover.aclose()

        asyncio.run(go())
    ((message,),) = [r["messages"] for r in api.requests]
    assert message["role"] == "user"
    return str(message["content"])


def test_an_imported_suite_keeps_the_benchmarks_prompt_and_the_preset_sends_it_with_the_query(
    bench: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmark's folder after its setup (problems.json and ml_files/ beside its own files) imported."""
    upstream = _at(bench, "HEAD", "prompt-basic.txt")
    assert upstream.decode().count(PLACEHOLDER) == 1  # where the benchmark's harness puts query.txt
    src = tmp_path / "bench"
    subprocess.run(["git", "clone", "-q", "--shared", str(bench), str(src)], check=True)  # the clone stays as it is
    (src / "ml_files" / "arm").mkdir(parents=True)
    (src / "ml_files" / "arm" / "x.ml").write_text(TEMPLATE)
    query = "(`!n. 2 * n = n + n`)"  # the benchmark's query, as problems.json words it
    (src / "problems.json").write_text(json.dumps({"arm.x.DOUBLE": _problem("DOUBLE", "generic", query, 12)}))
    import_artefacts(src, tmp_path / "suite")
    assert (tmp_path / "suite" / "prompts" / "prompt-basic.txt").read_bytes() == upstream
    sent = _sent(tmp_path / "suite", "arm.x.DOUBLE", monkeypatch)
    assert sent == upstream.decode().replace(PLACEHOLDER, query)
    assert PLACEHOLDER not in sent and query in sent


@pytest.mark.parametrize("name", list(REVISIONS))
def test_a_revision_takes_the_prompt_of_its_benchmark_commit(name: str, bench: Path) -> None:
    """Read as the import at a revision reads it (its timeout map's hash checked on the way)."""
    rev = REVISIONS[name]
    with revision_bench_files(rev, None, bench, lambda _line: None) as files:
        assert files.prompts == {"prompt-basic.txt": _at(bench, rev.bench_commit, "prompt-basic.txt")}


def test_the_benchmarks_prompt_changed_after_the_papers_commit(bench: Path) -> None:
    """So a suite at revision paper sends the paper's wording, and the later revisions the later one."""
    prompts = {name: _at(bench, rev.bench_commit, "prompt-basic.txt") for name, rev in REVISIONS.items()}
    assert prompts["paper"] != prompts["leaderboard-2026-04"] == prompts["refresh-2026-08"]
    assert all(p.decode().count(PLACEHOLDER) == 1 for p in prompts.values())
