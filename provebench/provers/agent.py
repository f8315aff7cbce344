"""The agent prover (``prover: agent``): a tool-calling chat model that steps through a proof session.

Each attempt opens a session on the problem in the run's warm checkers; the model gets the tools of
``agent_tools`` (apply_tactic, undo, goals, search, check_proof, submit) over OpenAI-compatible tool calls,
within a budget of tool calls, tokens and wall time. What it submits is the attempt's proof, checked by
the run's ordinary check like any other prover's; every call and result is the attempt's trajectory, in
the journal and the report. An attempt cut short (interrupted) is not journalled, so a resumed run makes
it again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field

from provebench.checking.proof_sessions import ProofSessions
from provebench.core.errors import UserError
from provebench.core.model import Problem, System
from provebench.provers import agent_tools
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, ProverUnavailable, validate_settings
from provebench.provers.extraction import extract_last_code_block
from provebench.provers.openai_transport import key_from_env
from provebench.provers.prompting import PromptTemplates

AGENT_PROMPTS = Path(__file__).resolve().parent.parent / "prompts" / "agent"


class AgentSettings(BaseModel):
    """Settings of the agent prover (the ``prover:`` block of a run config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, description="a chat model that makes tool calls, as the endpoint names it")
    base_url: str | None = Field(default=None, description="the endpoint (default: OpenAI's API)")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="the environment variable holding the API key; null: no key"
    )
    max_tool_calls: int = Field(default=40, ge=1, le=10_000, description="tool calls per attempt at most")
    max_total_tokens: int = Field(
        default=200_000, ge=1, le=100_000_000, description="prompt and completion tokens per attempt at most"
    )
    max_seconds: float = Field(default=900.0, gt=0, le=86_400, description="wall time per attempt at most")
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000, description="completion tokens per reply")
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature")
    request_timeout_s: float = Field(default=600.0, gt=0, le=86_400, description="one request's time at most")
    prompt_dir: Path | None = Field(default=None, description="a folder of your own system.j2 and user.j2")


class _Budget:
    def __init__(self, s: AgentSettings) -> None:
        self.s, self.calls, self.tokens, self.t0 = s, 0, 0, time.monotonic()

    def exhausted(self) -> str | None:
        if self.calls >= self.s.max_tool_calls:
            return f"the budget of {self.s.max_tool_calls} tool calls is spent"
        if self.tokens >= self.s.max_total_tokens:
            return f"the budget of {self.s.max_total_tokens} tokens is spent"
        if time.monotonic() - self.t0 >= self.s.max_seconds:
            return f"the budget of {self.s.max_seconds:.0f} s is spent"
        return None


class AgentProver(Prover):
    """Proves by stepping: tactics applied in a proof session, then a proof submitted."""

    name = "agent"

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self._sessions: ProofSessions | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._templates: dict[System, PromptTemplates] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AgentProver:
        """Validate the settings mapping of a run config."""
        return cls(validate_settings(AgentSettings, cls.name, settings))

    def prepare(self, suite_problems: Sequence[Problem]) -> None:
        """Load the prompt templates (rendered once now) and make the client."""
        for system in {p.system for p in suite_problems}:
            if system is not System.HOL_LIGHT:
                raise UserError(
                    f"prover agent: proof sessions are HOL Light's; this suite's problems are {system.value}"
                )
            folder = self.settings.prompt_dir or AGENT_PROMPTS / system.value
            templates = PromptTemplates(folder)
            templates.render_first(next(p for p in suite_problems if p.system is system))
            self._templates[system] = templates
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=key_from_env(self.settings.api_key_env, self.name),
                base_url=self.settings.base_url,
                max_retries=2,
                timeout=self.settings.request_timeout_s,
            )

    def use_checkers(self, sessions: ProofSessions) -> None:
        """The run's proof sessions: each attempt opens one."""
        self._sessions = sessions

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        """Open a session, let the model call tools until it submits or its budget is spent, close the session."""
        if self._client is None or problem.system not in self._templates:
            self.prepare([problem])
        if self._sessions is None:
            raise ProverUnavailable("the agent prover needs the run's checkers (it steps through proof sessions)")
        sessions = self._sessions
        sid, opened = await asyncio.to_thread(sessions.open, problem)
        if sid is None:
            return ProverOutput(proof=None, error=f"the goal did not open: {'; '.join(opened.messages)}")
        try:
            return await self._converse(problem, history, sessions, sid)
        finally:
            await asyncio.to_thread(sessions.close, sid)

    async def _converse(
        self, problem: Problem, history: tuple[PreviousAttempt, ...], sessions: ProofSessions, sid: str
    ) -> ProverOutput:
        assert self._client is not None
        rendered = self._templates[problem.system].render(problem, history)
        messages: list[dict[str, Any]] = [{"role": "system", "content": rendered.system}] if rendered.system else []
        messages.append({"role": "user", "content": rendered.user})
        budget = _Budget(self.settings)
        trajectory: list[dict[str, Any]] = []
        tokens_in = tokens_out = 0
        proof: str | None = None
        said = ""
        finish: str | None = None
        while proof is None:
            why = budget.exhausted()
            if why is not None:  # the attempt ends without a proof, saying why
                trajectory.append({"stopped": why})
                break
            try:
                reply = await self._client.chat.completions.create(**self._request(messages))
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:  # the API refused this one
                return ProverOutput(proof=None, error=f"{type(exc).__name__}: {exc}", trajectory=tuple(trajectory))
            except openai.APIError as exc:  # unreachable, refused key, throttled or failing after the SDK's retries
                raise ProverUnavailable(f"{type(exc).__name__}: {exc}") from None
            if reply.usage is not None:
                tokens_in += reply.usage.prompt_tokens
                tokens_out += reply.usage.completion_tokens
                budget.tokens += reply.usage.total_tokens
            choice = reply.choices[0]
            finish, message = choice.finish_reason, choice.message
            messages.append(message.model_dump(exclude_none=True))
            said = message.content or ""
            if said:
                trajectory.append({"say": said})
            calls = message.tool_calls or []
            if not calls:  # an answer without a call: its last code block is its proof, if it has one
                proof = extract_last_code_block(said)
                break
            for c in calls:
                if c.type != "function" or budget.exhausted() is not None:
                    continue  # past the budget, a turn's further calls are not made
                budget.calls += 1
                proof = await self._tool(
                    sessions, sid, c.id, c.function.name, c.function.arguments, messages, trajectory
                )
                if proof is not None:
                    break
        return ProverOutput(
            proof=proof,
            raw_reply=said or None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            finish_reason=finish,
            seconds=time.monotonic() - budget.t0,
            trajectory=tuple(trajectory),
        )

    async def _tool(
        self,
        sessions: ProofSessions,
        sid: str,
        call_id: str,
        name: str,
        raw: str,
        messages: list[dict[str, Any]],
        trajectory: list[dict[str, Any]],
    ) -> str | None:
        """Carry out one call; the submitted proof, if it was a submit."""
        started = time.monotonic()
        submitted: str | None = None
        try:
            args = agent_tools.arguments(raw)
        except UserError as exc:
            args, result = {}, {"ok": False, "error": str(exc)}
        else:
            if name == "submit":
                proof = args.get("proof")
                if isinstance(proof, str) and proof.strip():
                    submitted, result = proof, {"ok": True, "submitted": True}
                else:
                    result = {"ok": False, "error": "`proof` must be a non-empty string"}
            else:
                result = await asyncio.to_thread(agent_tools.call, sessions, sid, name, args)
        seconds = round(time.monotonic() - started, 6)
        trajectory.append({"tool": name, "arguments": args, "result": result, "seconds": seconds})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)})
        return submitted

    def _request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {"model": s.model, "messages": messages, "tools": agent_tools.TOOLS}
        if s.max_tokens is not None:
            body["max_tokens"] = s.max_tokens
        if s.temperature is not None:
            body["temperature"] = s.temperature
        return body

    def describe(self) -> dict[str, Any]:
        """The settings as used, without the key (only the variable's name)."""
        return {"name": self.name, **self.settings.model_dump(mode="json")}

    def template_hashes(self) -> dict[str, str]:
        """Hashes of the prompt templates in use."""
        return {k: v for t in self._templates.values() for k, v in t.hashes.items()}

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None
