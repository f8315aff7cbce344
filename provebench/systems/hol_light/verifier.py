"""HOL Light verifier: static vetting, then a pool of warm checkers that fork per check."""

from __future__ import annotations

import logging
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from provebench import containers
from provebench.checking.warm_pool import WarmPool
from provebench.containers.engine import DockerEngine
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Reason, Status, System, Verdict
from provebench.core.proof_states import StepOutcome
from provebench.core.settings import (
    Backend,
    CheckerBuild,
    Settings,
    checker_memory_mb,
    checkers_in_budget,
    memory_budget_mb,
    sized_settings,
)
from provebench.core.verifier import Verifier
from provebench.systems.hol_light.goal import computed_goal
from provebench.systems.hol_light.launchers import DockerLauncher, LocalLauncher
from provebench.systems.hol_light.proof_sessions import (
    REPLY_GRACE_S,
    HolLightProofSession,
    open_request,
    opened,
    parse_reply,
)
from provebench.systems.hol_light.session import HolLightSession, ServerReply, ToplevelLauncher
from provebench.systems.hol_light.template_text import CompiledContext
from provebench.systems.hol_light.templates import TemplateForest, TemplateLoadError, TemplateRoute, WalkState
from provebench.systems.hol_light.vetting import shield_own_bindings, vet_proof

_log = logging.getLogger("provebench.checkers")
# A passing proof's printing kept in its verdict: s2n-bignum's tactics print progress lines, up to the
# harness's 64 KB per check, which would go into every journal line of a PASS and tell nobody anything.
_PASS_PRINTING_KEPT = 4096


class HolLightVerifier(Verifier):
    """Checks HOL Light tactic proofs on a pool of warm checkers sharing one context (and its templates)."""

    system = System.HOL_LIGHT

    def __init__(
        self,
        launcher: ToplevelLauncher,
        checker: CheckerInfo,
        *,
        context: str = "",
        checkers: int = 1,
        memory_mb: int = 4096,
        max_proof_bytes: int = 1_000_000,
        load_timeout_s: float = 900.0,
        templates: TemplateForest | None = None,
        session_states: int = 128,
    ) -> None:
        self.checker = checker
        self._templates = templates
        self._memory_mb = memory_mb
        self._max_proof_bytes = max_proof_bytes
        self._load_timeout_s = load_timeout_s
        self._pool: WarmPool[HolLightSession] = WarmPool(
            lambda _dead: HolLightSession(launcher, context, load_timeout_s), checkers, "HOL Light checker"
        )
        self._walks: dict[HolLightSession, WalkState] = {}  # how far each checker has walked the templates
        self._walks_lock = threading.Lock()
        self._broken: dict[str, TemplateLoadError] = {}  # templates whose text does not load
        # Each state of a proof session is a process in its checker's container: at most this many per checker,
        # half its process limit, so that sessions never take the processes its checks fork.
        self._session_states = session_states
        self._sessions: dict[HolLightSession, list[HolLightProofSession]] = {}

    @property
    def restarts(self) -> int:  # type: ignore[override]
        """Checkers that died and were started again."""
        return self._pool.restarts

    def prepare(self) -> None:
        """Start every checker in parallel (HOL Light and the context loaded); raise if none could start.

        Templates are walked as checks need them, not here: a first walk can take an hour
        (s2n-bignum's P-256 files), and other checkers should not wait for it.
        """
        self._pool.start()

    def _walk(self, session: HolLightSession) -> WalkState:
        with self._walks_lock:
            return self._walks.setdefault(session, WalkState())

    def _acquire(self, key: str | None, template: str | None = None, position: int = 0) -> HolLightSession:
        """A free checker, the best placed for a check at ``key`` (``_choose``); waits for one."""
        return self._pool.acquire(lambda idle: self._choose(idle, key, template, position))

    def _choose(
        self, idle: Sequence[HolLightSession], key: str | None, template: str | None, position: int
    ) -> HolLightSession:
        """One that holds ``key``, else the one that has loaded most of the way there, else the longest idle."""
        session = next((s for s in idle if key in self._walk(s).held), None)
        if session is None and self._templates is not None and template is not None:
            # The checker that has loaded most of the way there (its walker, or a fork point of a template
            # sharing text with this one: s2n-bignum's base.ml, EC libraries); max() keeps the longest idle.
            route = self._templates.routes[template]
            session = max(idle, key=lambda s: self._walk(s).reusable(route, position))
        return session if session is not None else idle[0]

    def _replace(self, dead: HolLightSession) -> None:
        with self._walks_lock:
            self._walks.pop(dead, None)
        self._pool.replace(dead)

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """Lines of template text each of ``others`` has in common with ``problem``'s template, from the start."""
        if self._templates is None or problem.template is None:
            return [0] * len(others)
        shared = self._templates.shared_with(problem.template)
        return [shared.get(o.template or "", 0) for o in others]

    @property
    def checker_names(self) -> list[str]:
        """The container IDs of the live checkers."""
        return [s.name for s in self._pool.live]

    @property
    def load_seconds(self) -> list[float]:
        """How long each live checker took to load."""
        return [s.load_seconds for s in self._pool.live]

    def _usable(self, problem: Problem) -> None:
        if problem.system is not System.HOL_LIGHT:
            raise UserError(f"problem {problem.id} is for {problem.system.value}, not HOL Light")
        if (problem.template is None) != (self._templates is None):
            raise UserError(f"problem {problem.id} and this checker do not share a context")
        if self._templates is not None and self._templates.key(problem) is None:
            raise UserError(f"problem {problem.id} is not at a position this checker holds in {problem.template}")

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Vet, then check on a free warm checker."""
        self._usable(problem)
        refused = vet_proof(proof, self._max_proof_bytes)
        if refused is not None:
            return refused.model_copy(update={"checker": self.checker})
        return self._check_on_checker(problem, shield_own_bindings(proof), timeout_s)

    def check_unvetted_for_tests(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Skip static vetting, to test the checker's own layer. Never for untrusted input."""
        return self._check_on_checker(problem, proof, timeout_s)

    @contextmanager
    def _at_position(self, problem: Problem) -> Iterator[tuple[HolLightSession, str | None]]:
        """A checker brought to the problem's position, and the key of the holder there (None: it stands there).

        Given back afterwards; a template whose text does not load is remembered, a checker that broke replaced.
        """
        key = self._templates.key(problem) if self._templates is not None else None
        if problem.template is not None and problem.template in self._broken:
            raise self._broken[problem.template]
        position = self._templates.position(problem) if self._templates is not None else 0
        checker = self._acquire(key, problem.template, position)
        try:
            yield checker, (self._reach(checker, problem, key) if key is not None else None)
        except TemplateLoadError as exc:
            self._broken[str(problem.template)] = exc
            self._pool.release(checker)
            raise
        except VerifierUnavailable:
            self._replace(checker)
            raise
        self._pool.release(checker)

    def _check_on_checker(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        self.prepare()
        wall_s = problem.limit(timeout_s)
        with self._at_position(problem) as (checker, at):
            started = time.time()
            reply = checker.check(goal_text(problem), proof, wall_s, self._memory_mb, key=at)
            if _killed(reply) and checker.out_of_memory_since(started):
                reply = _out_of_memory(reply, self._memory_mb)
        return self._verdict(reply)

    def open_session(
        self, problem: Problem, timeout_s: float | None = None
    ) -> tuple[HolLightProofSession | None, StepOutcome]:
        """Open a proof session on ``problem`` in one checker (forked from its warm toplevel: milliseconds)."""
        self._usable(problem)
        self.prepare()
        wall_s = problem.limit(timeout_s)
        sid = secrets.token_hex(6)
        with self._at_position(problem) as (checker, at):
            if (full := self._no_room(checker)) is not None:
                return None, full
            nonce, line, data = open_request(sid, goal_text(problem), wall_s, self._memory_mb, at)
            raw = checker.exchange(line, data, nonce, wall_s + REPLY_GRACE_S, "opening a proof session")
        outcome = opened(parse_reply(raw))
        if not outcome.ok:
            return None, outcome

        def vet(tactic: str) -> StepOutcome | None:
            refused = vet_proof(tactic, self._max_proof_bytes)
            if refused is None:
                return None
            status, reason = refused.status.value, refused.reason.value
            return StepOutcome(ok=False, status=status, reason=reason, messages=refused.messages)

        live = HolLightProofSession(
            checker, sid, self._pool.acquire_this, self._pool.release, self._replace, wall_s, self._memory_mb, vet
        )
        live.admit = lambda: self._no_room(checker)
        with self._walks_lock:
            self._sessions.setdefault(checker, []).append(live)
        return live, outcome

    def _no_room(self, checker: HolLightSession) -> StepOutcome | None:
        """A refusal when the checker holds as many session states as it may (closed sessions are let go)."""
        with self._walks_lock:
            live = [s for s in self._sessions.get(checker, []) if not s.closed]
            self._sessions[checker] = live
            held = sum(s.steps + 1 for s in live)
        if held < self._session_states:
            return None
        return StepOutcome(
            ok=False,
            status="ERROR",
            reason="too-many-states",
            messages=(f"this checker holds {held} proof states (sessions and their steps): close a session or undo",),
        )

    def template_route(self, problem: Problem) -> TemplateRoute:
        """How this verifier's checkers walk ``problem``'s template (with any context compiled in)."""
        if self._templates is None or problem.template is None:
            raise UserError(f"problem {problem.id} has no template walked here")
        return self._templates.routes[problem.template]

    def _reach(self, session: HolLightSession, problem: Problem, key: str) -> str | None:
        """Bring ``session`` to the problem's position: a holder's key there, or None (its walker stands there)."""
        assert self._templates is not None
        route = self._templates.routes[str(problem.template)]
        return self._walk(session).reach(session, route, self._templates.position(problem), key, self._load_timeout_s)

    def _verdict(self, reply: ServerReply) -> Verdict:
        return verdict_from_reply(reply, self.checker)

    def close(self) -> None:
        """Stop all checkers."""
        self._pool.close()
        with self._walks_lock:
            self._walks.clear()


def _killed(reply: ServerReply) -> bool:
    """The check's process died of a signal its own limits do not send (an OOM kill is one)."""
    return reply.status is Status.FAIL and reply.reason is Reason.CRASHED


def _out_of_memory(reply: ServerReply, check_memory_mb: int) -> ServerReply:
    """A check killed by its container's memory limit: the checker's failure, not the proof's verdict."""
    detail = (
        f"the checker's container ran out of memory and the kernel killed the check ({reply.detail}); not the "
        f"proof's verdict (the check's own limit is {check_memory_mb} MB): give checkers more room with "
        "PROVEBENCH_CONTAINER_HEADROOM_MB"
    )
    return reply.model_copy(update={"status": Status.ERROR, "reason": Reason.CHECKER_OUT_OF_MEMORY, "detail": detail})


def make_hol_light_verifier(
    settings: Settings,
    context: str = "",
    progress: containers.Progress | None = None,
    template_problems: Sequence[Problem] = (),
    image: str = "hol-light",
) -> HolLightVerifier:
    """A HOL Light verifier on the configured backend (the image is built if missing).

    With ``template_problems``, its checkers walk those problems' templates (using the contexts the image
    has compiled in, where a template starts with one).
    """
    warm = checkers_in_budget(settings)  # warm checkers are kept by memory, not by cores
    common = dict(
        context=context,
        checkers=warm,
        memory_mb=settings.memory_mb,
        max_proof_bytes=settings.max_proof_bytes,
        load_timeout_s=settings.load_timeout_s,
        session_states=max(8, settings.pids_limit // 2),
    )
    if settings.backend is Backend.LOCAL:
        if settings.checker_build is CheckerBuild.NATIVE or containers.build_of(image) == "native":
            raise UserError("--backend local runs the host's bytecode toplevel only; native checkers run in Docker")
        launcher = LocalLauncher(settings.hol_light_dir, settings.cache_dir)
        # The host's own HOL Light: an identity no board pins (it is not a sandbox).
        info = CheckerInfo(
            image="local",
            digest="local",
            system=System.HOL_LIGHT,
            version=_local_version(),
            recipe="local",
            packages="local",
        )
        templates = TemplateForest(template_problems) if template_problems else None
        return HolLightVerifier(launcher, info, templates=templates, **common)  # type: ignore[arg-type]
    engine = DockerEngine(settings)
    build = settings.checker_build.value if settings.checker_build is not None else None
    r, revision = containers.parse_image_ref(containers.image_for_build(image, build))
    say = progress or (lambda _line: None)
    override = settings.image_revision
    if r.source is not None and override and not (revision or "").startswith(override.lower()):
        built = engine.image_for_revision(r, override)
        say(f"checking problems of {r.source} {(revision or '?')[:12]} in {built.tag}: verdicts may differ")
    else:
        built = engine.ensure_image(r, say, revision)
    limits = containers.SandboxLimits(memory_mb=checker_memory_mb(settings), pids=settings.pids_limit)
    if warm < settings.checkers:
        _log.info(
            "%d of the %d checkers asked for fit the memory budget (%d MB; each checker's container takes %d MB)",
            warm,
            settings.checkers,
            memory_budget_mb(settings),
            limits.memory_mb,
        )
    info = built.checker_info()
    compiled = CompiledContext.parse_index(built.contexts) if settings.compiled_contexts else ()
    templates = TemplateForest(template_problems, compiled) if template_problems else None
    if templates is not None and compiled:
        # None used where templates should start with one: the image was built from other text (rebuild it).
        _log.info(
            "%d of %d templates load a context compiled into %s (%s)",
            templates.compiled_routes,
            len(templates.routes),
            built.tag,
            ", ".join(c.name for c in compiled),
        )
    return HolLightVerifier(
        DockerLauncher(engine, built, limits),
        info,
        templates=templates,
        **common,  # type: ignore[arg-type]
    )


def _local_version() -> str:
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "hol-light"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def make_hol_light_group_verifier(settings: Settings, problems: Sequence[Problem]) -> HolLightVerifier:
    """The verifier of problems sharing one context: the suite's text, and their templates walked once."""
    first = problems[0]
    return make_hol_light_verifier(
        sized_settings(settings, problems),
        first.context,
        template_problems=problems if first.template is not None else (),
        image=first.checker_image,
    )


def goal_text(problem: Problem) -> str:
    """The goal as the check server reads it: a line saying what it is, then a term or the expression computing it."""
    return ("expression\n" if computed_goal(problem) else "term\n") + problem.statement


def verdict_from_reply(reply: ServerReply, checker: CheckerInfo | None) -> Verdict:
    """The verdict for a check server's reply; a passing proof's printing is cut to its start."""
    printing = reply.output.strip()
    if reply.status is Status.PASS and len(printing) > _PASS_PRINTING_KEPT:
        cut = f"(printing cut: a PASS keeps its first {_PASS_PRINTING_KEPT} characters)"
        printing = f"{printing[:_PASS_PRINTING_KEPT]}\n... {cut}"
    return Verdict(
        status=reply.status,
        reason=reply.reason,
        messages=tuple(m for m in (reply.detail.strip(), printing) if m),
        check_seconds=round(reply.wall_seconds, 6),
        cpu_seconds=round(reply.cpu_seconds, 6),
        proof_seconds=None if reply.proof_seconds is None else round(reply.proof_seconds, 6),
        checker=checker,
        computed_goal=reply.goal or None,
    )
