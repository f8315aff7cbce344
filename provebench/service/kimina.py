"""Kimina Lean Server's HTTP API, served by provebench's Lean checkers with provebench's integrity layers.

Its request and reply shapes, as Kimina's tools and the ``kimina-client`` package send and read them:
``POST /verify`` (``codes: [{custom_id, proof | code}]``, ``timeout``, ``infotree_type``,
``disable_cache``), ``POST /api/check`` (``snippets: [{id, code}]``, ``timeout``, ``debug``,
``reuse``, ``infotree``) and ``GET /health``. Each snippet is a whole Lean file checked as its own
claim (``Kind.FILE``). A verdict other than PASS (a forbidden construct, a non-standard axiom, sorry)
also appears as an error-severity message, so that a client that reads only messages counts it as
failed; provebench's verdict is in an extra ``verdict`` field. A timeout is Kimina's ``error`` text
("... timed out ..."), which its client classifies as a timeout. Info trees are accepted, not produced.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from provebench.checking import system_image
from provebench.engine import Checked
from provebench.inputs import TimeoutSeconds
from provebench.model import Problem, Status, System, Verdict
from provebench.service.state import ApiError, BoundedRoute, ServiceState, check_size


class KiminaCode(BaseModel):
    """One proof of ``/verify``: ``proof`` or, in older clients, ``code``."""

    model_config = ConfigDict(extra="ignore")

    custom_id: str | int
    proof: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _has_text(self) -> KiminaCode:
        if self.proof is None and self.code is None:
            raise ValueError(f"code {self.custom_id!r} has neither proof nor code")
        return self

    @property
    def text(self) -> str:
        """The Lean file."""
        return self.proof if self.proof is not None else str(self.code)


class VerifyBody(BaseModel):
    """``POST /verify``."""

    model_config = ConfigDict(extra="ignore")

    codes: list[KiminaCode] = Field(min_length=1)
    timeout: TimeoutSeconds = 300
    infotree_type: str | None = None
    disable_cache: bool = False


class KiminaSnippet(BaseModel):
    """One snippet of ``/api/check``."""

    model_config = ConfigDict(extra="ignore")

    id: str
    code: str


class ApiCheckBody(BaseModel):
    """``POST /api/check``."""

    model_config = ConfigDict(extra="ignore")

    snippets: list[KiminaSnippet] = Field(min_length=1)
    timeout: TimeoutSeconds = 30
    debug: bool = False
    reuse: bool = True
    infotree: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> ApiCheckBody:
        if len({s.id for s in self.snippets}) != len(self.snippets):
            raise ValueError("`snippets` must have unique ids")
        return self


def _verdict_message(verdict: Verdict) -> dict[str, Any]:
    why = "; ".join(verdict.messages) or verdict.reason.value
    return {
        "severity": "error",
        "pos": {"line": 1, "column": 0},
        "endPos": None,
        "data": f"provebench: {verdict.status.value} ({verdict.reason.value}): {why}",
    }


def kimina_reply(verdict: Verdict, timeout_s: float) -> tuple[str | None, dict[str, Any] | None, float]:
    """Kimina's ``error`` and ``response`` for a verdict, and the seconds it took."""
    seconds = verdict.check_seconds
    if verdict.status is Status.TIMEOUT:
        return f"Lean REPL command timed out in {timeout_s:g} seconds", None, seconds
    if verdict.status is Status.ERROR:
        return f"provebench: {verdict.reason.value}: {'; '.join(verdict.messages)}", None, seconds
    response: dict[str, Any] = {
        k: v for k, v in (verdict.system_response or {}).items() if k in ("env", "messages", "sorries", "tactics")
    }
    messages = list(response.get("messages") or [])
    if not verdict.passed:
        messages.append(_verdict_message(verdict))
    response["messages"] = messages
    response["time"] = seconds
    return None, response, seconds


def kimina_router(state: ServiceState) -> APIRouter:
    """Kimina Lean Server's routes on the service's engine."""
    router = APIRouter(tags=["Kimina Lean Server API"], route_class=BoundedRoute)

    async def check_all(texts: list[tuple[str, str]], timeout_s: float) -> list[tuple[Verdict, float]]:
        if System.LEAN4 not in state.systems:
            raise ApiError(422, "this service does not check Lean 4 (start it with --system lean4)")
        image = system_image(System.LEAN4)
        problems = []
        for name, text in texts:
            check_size(state, text)
            problems.append(Problem.lean_file(text, timeout_s, image, name))
        state.engine.plan(problems)
        state.admit(len(problems))

        async def one(problem: Problem, text: str) -> Checked:
            try:
                checked = await state.engine.acheck(problem, text, timeout_s)
            except BaseException:
                state.queued -= 1
                raise
            state.answered(checked)
            return checked

        done = await asyncio.gather(*(one(p, t) for p, (_, t) in zip(problems, texts, strict=True)))
        return [(c.verdict, timeout_s) for c in done]

    @router.post("/verify", response_model_exclude_none=True)
    @router.post("/one_pass_verify_batch", response_model_exclude_none=True, include_in_schema=False)
    async def verify(body: VerifyBody) -> dict[str, Any]:
        """Kimina's batch verification (its older API): one result per code, in order."""
        checked = await check_all([(str(c.custom_id), c.text) for c in body.codes], body.timeout)
        results = []
        for code, (verdict, limit) in zip(body.codes, checked, strict=True):
            error, response, _ = kimina_reply(verdict, limit)
            row: dict[str, Any] = {"custom_id": code.custom_id, "verdict": verdict.model_dump(mode="json")}
            row.update({"error": error} if error is not None else {"response": response})
            results.append(row)
        return {"results": results}

    async def api_check(body: ApiCheckBody) -> dict[str, Any]:
        """Kimina's snippet check: one ``ReplResponse`` per snippet, in order."""
        checked = await check_all([(s.id, s.code) for s in body.snippets], body.timeout)
        results = []
        for snippet, (verdict, limit) in zip(body.snippets, checked, strict=True):
            error, response, seconds = kimina_reply(verdict, limit)
            row: dict[str, Any] = {"id": snippet.id, "time": seconds, "verdict": verdict.model_dump(mode="json")}
            row.update({"error": error} if error is not None else {"response": response})
            results.append(row)
        return {"results": results}

    for path in ("/api/check", "/api/checks"):
        router.add_api_route(path, api_check, methods=["POST"])
    router.add_api_route("/api/check/", api_check, methods=["POST"], include_in_schema=False)

    @router.get("/health")
    async def health() -> dict[str, str]:
        """Kimina's health check."""
        return {"status": "draining" if state.draining else "ok"}

    return router
