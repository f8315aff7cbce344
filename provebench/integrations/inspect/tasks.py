"""``provebench/suite``: any suite provebench knows as an Inspect task, registered through an entry point.

``inspect eval provebench/suite -T suite=hol-light-core --model openai/gpt-4o --epochs 4``: bundled suites,
suite folders and imported s2n-bignum-bench and CombiBench revisions alike.
"""

from __future__ import annotations

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import mean_score

from provebench import __version__
from provebench.integrations.inspect import proving
from provebench.integrations.inspect.options import ProofTask, TaskOptions, proof_task
from provebench.integrations.inspect.proving import chat_messages, proof_check, prove


def samples(task: ProofTask) -> list[Sample]:
    """One sample per problem, its input the first round a ``provebench run`` with these prompts sends."""
    suite = task.plan.suite
    return [
        Sample(
            id=p.id,
            input=chat_messages(task.prompts.chat(p, ())),
            metadata={
                "category": p.category,
                "kind": p.kind.value,
                "system": p.system.value,
                "suite": suite.name,
                "suite_hash": suite.content_hash,
            },
        )
        for p in task.plan.problems
    ]


@task
def suite(
    suite: str = "hol-light-core",
    prompt: str | None = None,
    prompt_dir: str | None = None,
    problems: str | list[str] | None = None,
    categories: str | list[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    repair_rounds: int = 0,
    pass_at: str | int | list[int] | None = None,
    timeout_s: float | None = None,
    server: str | None = None,
    checker: str | None = None,
    checkers: int | None = None,
) -> Task:
    """A provebench suite: problems as samples, proofs checked by provebench's checkers.

    Args:
        suite: a suite's name (bundled or imported) or a suite folder.
        prompt: a bundled prompt preset (``provebench provers presets``); default: the generic templates.
        prompt_dir: a folder of your own prompt templates.
        problems: only these problem ids (``a,b`` or a list).
        categories: only these categories.
        limit: a seeded random subset of this many problems.
        seed: the seed of that subset.
        repair_rounds: further rounds of a failed sample, each shown the checker's reply.
        pass_at: pass@k values over epochs to report besides the mean (each k at most ``--epochs``).
        timeout_s: a per-check timeout for every problem (default: each problem's own).
        server: a provebench service to check on (``provebench serve``) instead of local warm checkers.
        checker: HOL Light checkers' build, bytecode or native.
        checkers: warm checkers per context (default: one per core, within the memory budget).
    """
    options = TaskOptions.parse(
        {
            "suite": suite,
            "prompt": prompt,
            "prompt_dir": prompt_dir,
            "problems": problems,
            "categories": categories,
            "limit": limit,
            "seed": seed,
            "repair_rounds": repair_rounds,
            "pass_at": pass_at,
            "timeout_s": timeout_s,
            "server": server,
            "checker": checker,
            "checkers": checkers,
        }
    )
    task = proof_task(options)
    args = options.args()
    return Task(
        dataset=MemoryDataset(samples(task), name=task.plan.suite.name),
        solver=prove(args),
        scorer=proof_check(args),
        epochs=Epochs(1, [mean_score(), *(proving.pass_at(k) for k in options.pass_at)]),
        metadata={
            "provebench_version": __version__,
            "suite": task.plan.suite.name,
            "suite_hash": task.plan.suite.content_hash,
            "prompt_templates": task.prompts.hashes(),
        },
    )
