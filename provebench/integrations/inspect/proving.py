"""The task's solver, scorer and epoch reducer.

Solver: a generation per round; with ``repair_rounds`` each failed round is checked and the next asked with
provebench's repair prompt (the checker's messages in it), as a run's repair rounds are. Scorer: the last
reply's proof checked by provebench's engine, correct or incorrect, the verdict in the metadata. Reducer:
pass@k over epochs with provebench's unbiased estimator (``runs.stats.pass_at_k``), as ``report`` computes it.
"""

from __future__ import annotations

import math
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Score,
    Scorer,
    ScoreReducer,
    Target,
    accuracy,
    score_reducer,
    scorer,
    stderr,
    value_to_float,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from provebench.integrations.inspect.options import ROUNDS_KEY, TaskOptions, proof_task
from provebench.integrations.inspect.rounds import Round, checked, rounds_data
from provebench.provers.prompt_source import ChatMessages
from provebench.runs.stats import pass_at_k


def chat_messages(messages: ChatMessages) -> list[ChatMessage]:
    """The (role, text) messages of a ``PromptSource`` as Inspect's."""
    return [
        ChatMessageSystem(content=text) if role == "system" else ChatMessageUser(content=text)
        for role, text in messages
    ]


@solver
def prove(options: dict[str, Any]) -> Solver:
    """Generate a proof; with repair rounds, check each and ask again with the checker's reply."""
    task = proof_task(TaskOptions.parse(options))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        problem = task.problem(state.sample_id)
        rounds: list[Round] = []
        last = task.options.repair_rounds
        for number in range(last + 1):
            if number:
                state.messages = chat_messages(task.prompts.chat(problem, tuple(r.previous() for r in rounds)))
            state = await generate(state)
            current = Round.of(number, state.output, task, problem)
            rounds.append(current)
            if number < last:  # the last round is the scorer's to check
                current.verdict = await checked(task, problem, current.proof)
                state.store.set(ROUNDS_KEY, rounds_data(rounds))
                if current.verdict.passed:
                    break
        state.store.set(ROUNDS_KEY, rounds_data(rounds))
        return state

    return solve


@scorer(metrics=[accuracy(), stderr()])
def proof_check(options: dict[str, Any]) -> Scorer:
    """Correct when provebench's checker passes the proof of the last reply, with every integrity layer."""
    task = proof_task(TaskOptions.parse(options))

    async def score(state: TaskState, target: Target) -> Score:
        problem = task.problem(state.sample_id)
        rounds = [Round.model_validate(r) for r in state.store.get(ROUNDS_KEY) or []]
        if not rounds or rounds[-1].reply != state.output.completion:  # another solver's reply
            rounds.append(Round.of(len(rounds), state.output, task, problem))
        last = rounds[-1]
        if last.verdict is None:
            last.verdict = await checked(task, problem, last.proof)
        state.store.set(ROUNDS_KEY, rounds_data(rounds))
        verdict = last.verdict
        return Score(
            value=CORRECT if verdict.passed else INCORRECT,
            answer=last.proof,
            explanation=f"{verdict.status.value} ({verdict.reason.value})"
            + (f": {verdict.messages[0]}" if verdict.messages else ""),
            metadata={
                "status": verdict.status.value,
                "reason": verdict.reason.value,
                "verdict": verdict.model_dump(mode="json"),
                "rounds": rounds_data(rounds),
                "suite": task.plan.suite.name,
                "suite_hash": task.plan.suite.content_hash,
            },
        )

    return score


@score_reducer
def pass_at(k: int) -> ScoreReducer:
    """pass@k of a sample's epochs (n epochs, c correct), NaN when it has fewer than k epochs (as Inspect's)."""
    to_float = value_to_float()

    def reduce(scores: list[Score]) -> Score:
        n = len(scores)
        c = sum(1 for s in scores if to_float(s.value) >= 1.0)
        if n < k:
            return Score(value=math.nan, explanation=f"pass@{k} needs at least {k} epochs; this sample has {n}")
        return Score(value=pass_at_k(n, c, k), explanation=f"{c} of {n} epochs correct")

    return reduce
