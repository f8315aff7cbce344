"""A sample's rounds as the solver and the scorer keep them: each reply, the proof taken from it, its verdict.

The rounds go into the score's metadata, where ``import-inspect`` reads the replies back (never the
verdicts: it checks every proof again). A verdict of ERROR (a checker that failed after the engine's
retries, a goal that does not evaluate) is not a score: the sample fails with it, so that Inspect counts it
as an error, never as an incorrect proof.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ModelOutput
from pydantic import BaseModel

from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.integrations.inspect.checkers import engine_for
from provebench.integrations.inspect.options import ProofTask
from provebench.provers.api import PreviousAttempt

NO_PROOF = "the model gave no proof (no fenced code block in its reply)"


class CheckerFailed(RuntimeError):
    """The check did not come to a verdict on the proof: the sample is an error, not a failure."""


class Round(BaseModel):
    """One reply of a sample and what became of it."""

    round: int
    reply: str
    proof: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_reasoning: int = 0
    finish_reason: str | None = None
    verdict: Verdict | None = None

    @classmethod
    def of(cls, number: int, output: ModelOutput, task: ProofTask, problem: Problem) -> Round:
        """The round of one model output: its reply, proof and token counts."""
        usage = output.usage
        return cls(
            round=number,
            reply=output.completion,
            proof=task.prompts.proof(output.completion, problem),
            tokens_in=usage.input_tokens if usage else 0,
            tokens_out=usage.output_tokens if usage else 0,
            tokens_reasoning=(usage.reasoning_tokens or 0) if usage else 0,
            finish_reason=output.stop_reason,
        )

    def previous(self) -> PreviousAttempt:
        """This failed round as the next round's prompt sees it."""
        assert self.verdict is not None
        v = self.verdict
        return PreviousAttempt(
            proof=self.proof or "", status=v.status.value, reason=v.reason.value, messages=v.messages
        )


async def checked(task: ProofTask, problem: Problem, proof: str | None) -> Verdict:
    """The verdict on ``proof`` from provebench's engine (no proof: a failure, as a run records it)."""
    if proof is None:
        return Verdict(status=Status.FAIL, reason=Reason.NO_PROOF, messages=(NO_PROOF,))
    result = await engine_for(task).acheck(problem, proof, task.options.timeout_s)
    verdict = result.verdict
    if verdict.status is Status.ERROR:
        said = verdict.messages[0] if verdict.messages else "the checker failed"
        raise CheckerFailed(f"{problem.id}: no verdict ({verdict.reason.value}): {said}")
    return verdict


def rounds_data(rounds: list[Round]) -> list[dict[str, Any]]:
    """The rounds as JSON data (for the sample's store and the score's metadata)."""
    return [r.model_dump(mode="json") for r in rounds]
