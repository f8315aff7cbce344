"""Kimina Lean Server's HTTP API, served by provebench's Lean checkers, with Kimina's meaning.

Its request and reply shapes, as Kimina's tools, the ``kimina-client`` package and CombiBench's
``Lean4Client`` send and read them: ``POST /verify`` (``codes: [{custom_id, proof | code}]``,
``timeout``, ``infotree_type``, ``disable_cache``), ``POST /api/check`` (``snippets: [{id, code}]``,
``timeout``, ``debug``, ``reuse``, ``infotree``), ``GET /health`` and ``GET /``. Each snippet is a whole
Lean file (``Kind.FILE``) checked as code: ``response`` is the REPL's own reply to it, so a client's
"valid" (no error message, no sorry) means what it means on Kimina's server. provebench's strict
verdict (vetting, the theorems' axioms and, when a judge is configured, comparator's judgement of the
file) is in the extra ``verdict`` field beside it, never mixed into Kimina's fields. A timeout is
Kimina's ``error`` text ("... timed out ..."). Info trees are accepted, not produced.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from provebench.checking.checked import Checked
from provebench.core.inputs import TimeoutSeconds
from provebench.core.model import Problem, Status, System, Verdict
from provebench.service.state import ApiError, BoundedRoute, ServiceState, check_size
from provebench.suites.check_requests import system_image
from provebench.systems.lean.verifier import RUN_TIMED_OUT


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


def kimina_reply(verdict: Verdict, timeout_s: float) -> tuple[str | None, dict[str, Any] | None, float]:
    """Kimina's ``error`` and ``response`` for a snippet, and the seconds it took.

    Kimina's meaning: the REPL's own reply to the code, untouched (a client judges it valid when it has no
    error message and no sorry). provebench's verdict is not mixed in; it rides in the extra ``verdict`` field.
    """
    seconds = verdict.check_seconds
    if verdict.system_response is not None:
        return None, dict(verdict.system_response) | {"time": seconds}, seconds
    if verdict.status is Status.TIMEOUT or RUN_TIMED_OUT in verdict.messages:
        return f"Lean REPL command timed out in {timeout_s:g} seconds", None, seconds
    why = "; ".join(verdict.messages) or verdict.reason.value
    return f"provebench: {verdict.status.value} ({verdict.reason.value}): {why}", None, seconds


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

    @router.post("/verify")
    @router.post("/one_pass_verify_batch", include_in_schema=False)
    async def verify(body: VerifyBody) -> dict[str, Any]:
        """Kimina's batch verification (its older API): one result per code, in order."""
        checked = await check_all([(str(c.custom_id), c.text) for c in body.codes], body.timeout)
        results = []
        for code, (verdict, limit) in zip(body.codes, checked, strict=True):
            error, response, _ = kimina_reply(verdict, limit)
            # Every key, null included: CombiBench's client reads res["error"] as Kimina's first server did.
            row: dict[str, Any] = {"custom_id": code.custom_id, "error": error, "response": response}
            results.append(row | {"verdict": verdict.model_dump(mode="json")})
        return {"results": results}

    async def api_check(body: ApiCheckBody) -> dict[str, Any]:
        """Kimina's snippet check: one ``ReplResponse`` per snippet, in order."""
        checked = await check_all([(s.id, s.code) for s in body.snippets], body.timeout)
        results = []
        for snippet, (verdict, limit) in zip(body.snippets, checked, strict=True):
            error, response, seconds = kimina_reply(verdict, limit)
            row: dict[str, Any] = {"id": snippet.id, "time": seconds, "error": error, "response": response}
            results.append(row | {"verdict": verdict.model_dump(mode="json")})
        return {"results": results}

    for path in ("/api/check", "/api/checks"):
        router.add_api_route(path, api_check, methods=["POST"])
    router.add_api_route("/api/check/", api_check, methods=["POST"], include_in_schema=False)

    @router.get("/health")
    @router.get("/", include_in_schema=False)  # CombiBench's client asks GET / before anything else
    async def health() -> dict[str, str]:
        """Kimina's health check."""
        return {"status": "draining" if state.draining else "ok"}

    return router
