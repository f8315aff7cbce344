"""Lean 4 verifier: static flags, then warm REPLs (one per checker, each behind the in-container driver).

A check, in layers (a clean compile proves nothing):
1. static flags from a Lean-aware tokenizer (``vetting``);
2. the candidate runs on the header environment (the suite's imports, run
   once per REPL), with the problem's wall-clock limit;
3. a trusted command, run on the candidate's environment as a separate REPL
   command (so ``#exit`` in the candidate cannot skip it), fingerprints every
   declaration the trusted statement makes: each must exist with the
   reference statement's elaborated type (and, for definitions, value), and
   the theorems' axioms must be within propext, Classical.choice, Quot.sound;
4. fill-in problems: each ``NAME_solution`` is judged against the reference
   answer in another trusted command (rfl, norm_num, decide, simp in turn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from provebench.checking.warm_pool import WarmPool
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Kind, Problem, Reason, Status, System, Verdict
from provebench.core.verifier import Verifier
from provebench.systems.lean.commands import (
    IMPORT_LINE,
    answer_command,
    candidate_body,
    declarations,
    declared_names,
    describe_messages,
    fingerprint_command,
    first_info_json,
    reference_answers,
)
from provebench.systems.lean.compare import axioms_not_allowed, statement_mismatch
from provebench.systems.lean.fill_in import FillInAnswer
from provebench.systems.lean.judge import Judgement, judge_request, judged
from provebench.systems.lean.session import Answer, LeanLauncher, LeanSession
from provebench.systems.lean.vetting import LeanLexicalError, flags

T = TypeVar("T")
TRUSTED_TIMEOUT_S = 120.0  # a trusted command: the fingerprint, an answer check
RUN_TIMED_OUT = "running it as code ran out of time"  # a refused file's run, for Kimina's timeout error
UNREAD = frozenset({Reason.NO_PROOF, Reason.TOO_LARGE, Reason.INVALID_TEXT})  # refused before any reading of it


class LeanVerifier(Verifier):
    """Checks Lean 4 candidates on a pool of warm REPLs that share one header."""

    system = System.LEAN4

    def __init__(
        self,
        launcher: LeanLauncher,
        checker: CheckerInfo,
        *,
        header: str,
        checkers: int = 1,
        max_proof_bytes: int = 1_000_000,
        load_timeout_s: float = 900.0,
        benchmark_judge: bool = False,
        judge: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.checker = checker
        self._benchmark_judge = benchmark_judge
        self._judge = judge  # the trusted judge (comparator, lean_judge_run.py): it gives the final verdict
        self._header_imports = tuple(m.group(1) for line in header.split("\n") if (m := IMPORT_LINE.match(line)))
        self._mathlib = any(m.split(".")[0] == "Mathlib" for m in self._header_imports)
        self._max_proof_bytes = max_proof_bytes
        self._load_timeout_s = load_timeout_s
        self._pool: WarmPool[LeanSession] = WarmPool(
            lambda _dead: LeanSession(launcher, header, load_timeout_s), checkers, "Lean checker"
        )
        self.recycled = 0  # REPLs replaced after their uses (or above their memory cap)
        self._references: dict[str, list[dict[str, Any]]] = {}  # problem id -> the trusted statement's fingerprint

    @property
    def replaced(self) -> int:
        """REPLs stopped and started again: broken, or done running a refused file."""
        return self._pool.restarts

    @property
    def restarts(self) -> int:  # type: ignore[override]
        """Checkers that died (or were retired) and were started again."""
        return self._pool.restarts

    def prepare(self) -> None:
        """Start every REPL in parallel; raise if none could start."""
        self._pool.start()

    @property
    def checker_names(self) -> list[str]:
        """The names of the live checkers."""
        return [s.name for s in self._pool.live]

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Flags, then compile, fingerprint and (fill-in) judge the answer on a warm REPL."""
        if problem.system is not System.LEAN4:
            raise UserError(f"problem {problem.id} is for {problem.system.value}, not Lean 4")
        refused = self._vet(problem, proof)
        if refused is not None and problem.kind is Kind.FILE and refused.reason not in UNREAD:
            refused = self._run_as_code(problem, proof, refused, timeout_s)
        verdict = refused if refused is not None else self._check_on_checker(problem, proof, timeout_s)
        if self._benchmark_judge and verdict.reason not in UNREAD:
            # The benchmark's own judge also sees what provebench refuses before compiling: that is the point.
            limit = problem.limit(timeout_s)
            # A file vetting refused runs here as the benchmark would run it: on a REPL retired after it.
            judged = self._on_session(
                lambda s: self._benchmark_judged(s, problem, proof, limit), retire=refused is not None
            )
            verdict = verdict.model_copy(update={"benchmark_pass": judged})
        return verdict

    def _run_as_code(self, problem: Problem, proof: str, refused: Verdict, timeout_s: float | None) -> Verdict:
        """A refused file's own REPL reply beside the refusal: what Kimina's API reports of a snippet is its run.

        The file runs on a REPL that is retired right after, so nothing it did reaches another check.
        """
        limit = problem.limit(timeout_s)
        body = candidate_body(proof, self._header_imports)
        ran = self._on_session(lambda s: s.run(body, "header", limit), retire=True)
        if ran.ok:
            return refused.model_copy(update={"system_response": ran.response.as_json()})
        said = RUN_TIMED_OUT if ran.error == "timeout" else f"running it as code failed: {ran.error}"
        return refused.model_copy(update={"messages": (*refused.messages, said)})

    def _benchmark_judged(self, session: LeanSession, problem: Problem, proof: str, timeout_s: float) -> bool:
        """CombiBench's judge: the file with one answer example per slot appended compiles, without sorry."""
        text = candidate_body(proof, self._header_imports)
        if problem.kind is Kind.FILL_IN:
            pairs = reference_answers(problem)
            if pairs is None:
                return False
            closer = "try norm_num" if self._mathlib else "try decide"
            for slot, answer in pairs:
                text += f"\n\nexample: {slot} = {answer} := by\n  try rfl\n  {closer}\n"
        ran = session.run(text, "header", timeout_s)
        sorry = ran.response.sorries or any("sorry" in m.data for m in ran.messages("warning"))
        return ran.ok and not ran.messages("error") and not sorry

    def check_unvetted_for_tests(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Skip the static flags, to test the layers after compilation. Never for untrusted input."""
        return self._check_on_checker(problem, proof, timeout_s)

    def _check_on_checker(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        limit = problem.limit(timeout_s)
        return self._on_session(lambda s: self._check_on(s, problem, proof, limit))

    def _on_session(self, work: Callable[[LeanSession], T], retire: bool = False) -> T:
        """``work`` on a free warm REPL; a broken one is replaced, and so is one that ran what vetting refused."""
        got = self._pool.acquire()
        try:
            result = work(got)
            if retire:
                self._pool.replace(got)
                return result
            self.recycled += got.done()
        except VerifierUnavailable:
            self._pool.replace(got)
            raise
        self._pool.release(got)
        return result

    def _verdict(self, status: Status, reason: Reason, *messages: str, seconds: float = 0.0) -> Verdict:
        return Verdict(
            status=status, reason=reason, messages=messages, check_seconds=round(seconds, 6), checker=self.checker
        )

    def _vet(self, problem: Problem, proof: str) -> Verdict | None:
        if not proof.strip():
            return self._verdict(Status.FAIL, Reason.NO_PROOF, "the proof is empty")
        size = len(proof.encode("utf-8", errors="surrogatepass"))
        if size > self._max_proof_bytes:
            return self._verdict(Status.FAIL, Reason.TOO_LARGE, f"{size} bytes; the limit is {self._max_proof_bytes}")
        if any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in proof):
            return self._verdict(Status.FAIL, Reason.INVALID_TEXT, "the proof contains binary or control characters")
        try:
            found = flags(candidate_body(proof, self._header_imports), problem.statement)
        except LeanLexicalError as exc:
            return self._verdict(Status.FAIL, Reason.COMPILE_ERROR, str(exc))
        if found and all(f.word in ("sorry", "admit") for f in found):  # unfinished, not forged
            return self._verdict(Status.FAIL, Reason.SORRY, *(f.message() for f in found))
        if found:
            return self._verdict(Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT, *(f.message() for f in found))
        return None

    def _reference(self, session: LeanSession, problem: Problem) -> list[dict[str, Any]]:
        """The fingerprint of the trusted statement's declarations (once per problem)."""
        if problem.id in self._references:
            return self._references[problem.id]
        names = declared_names(problem.statement)
        if not any(kind in ("theorem", "lemma") for kind, _ in declarations(problem.statement)):
            # Nothing to hold a candidate to: any file would pass. The suite's fault, never a PASS.
            raise VerifierUnavailable(f"problem {problem.id}: no theorem found in its statement")
        stated = session.run(problem.statement, "header", max(TRUSTED_TIMEOUT_S, problem.timeout_s))
        if not stated.ok or stated.messages("error"):
            why = stated.detail or "; ".join(describe_messages(stated.messages("error")))
            raise VerifierUnavailable(f"problem {problem.id}: the trusted statement does not compile: {why}")
        printed = session.run(fingerprint_command(names), stated.env, TRUSTED_TIMEOUT_S)
        reference = first_info_json(printed) if printed.ok else None
        if reference is None or any(r.get("missing") for r in reference):
            raise VerifierUnavailable(f"problem {problem.id}: could not fingerprint the trusted statement")
        self._references[problem.id] = reference
        return reference

    def _ran_badly(self, ran: Answer) -> Verdict | None:
        """The verdict of a candidate that did not compile cleanly (a dead REPL, a timeout, errors, sorry)."""
        if not ran.ok:
            if ran.error == "timeout":
                return self._verdict(Status.TIMEOUT, Reason.WALL_TIMEOUT, seconds=ran.seconds)
            if ran.error == "crashed":
                return self._verdict(Status.FAIL, Reason.CRASHED, "the Lean REPL died", seconds=ran.seconds)
            raise VerifierUnavailable(f"the Lean REPL refused the candidate: {ran.error}: {ran.detail}")
        errors = ran.messages("error")
        if errors:
            return self._verdict(Status.FAIL, Reason.COMPILE_ERROR, *describe_messages(errors), seconds=ran.seconds)
        if ran.response.sorries:  # term-mode sorry shows up as sorryAx in the axioms below
            return self._verdict(Status.FAIL, Reason.SORRY, "the proof uses sorry", seconds=ran.seconds)
        return None

    def _check_file(self, session: LeanSession, problem: Problem, proof: str, timeout_s: float) -> Verdict:
        """A whole file as its own claim: it compiles cleanly and each theorem it declares uses standard axioms.

        Kimina's ``response`` is the REPL's reply to the file whatever the verdict, the judge's included.
        """
        ran = session.run(candidate_body(proof, self._header_imports), "header", timeout_s)
        verdict = self._ran_badly(ran)
        if verdict is None:
            names = declared_names(proof)
            printed = session.run(fingerprint_command(names), ran.env, TRUSTED_TIMEOUT_S) if names else None
            found = {c.get("name"): c for c in (first_info_json(printed) or [])} if printed and printed.ok else {}
            theorems = [c for c in found.values() if c.get("kind") == "theorem"]
            unseen = [n for n in names if found.get(n, {}).get("missing", n not in found)]
            if unseen:
                verdict = self._verdict(
                    Status.FAIL, Reason.MISSING_THEOREM, f"cannot check `{unseen[0]}` (declared inside a namespace?)"
                )
            elif not theorems:
                verdict = self._verdict(Status.FAIL, Reason.MISSING_THEOREM, "the file states no named theorem")
            else:
                wrong = axioms_not_allowed(theorems, {str(t["name"]): t for t in theorems})
                # What the REPL passes, the judge (when there is one) decides; its refusals all stand.
                verdict = (
                    self._verdict(*wrong) if wrong is not None else self._final(problem, proof, timeout_s, ran.seconds)
                )
        return verdict.model_copy(
            update={
                "system_response": ran.response.as_json() if ran.ok else None,
                "check_seconds": round(ran.seconds, 6),
            }
        )

    def _check_on(self, session: LeanSession, problem: Problem, proof: str, timeout_s: float) -> Verdict:
        if problem.kind is Kind.FILE:
            return self._check_file(session, problem, proof, timeout_s)
        reference = self._reference(session, problem)
        ran = session.run(candidate_body(proof, self._header_imports), "header", timeout_s)
        if (bad := self._ran_badly(ran)) is not None:
            return bad
        names = [r["name"] for r in reference]
        printed = session.run(fingerprint_command(names), ran.env, TRUSTED_TIMEOUT_S)
        candidate = {c.get("name"): c for c in (first_info_json(printed) or [])} if printed.ok else {}
        if not candidate:  # the trusted command ran on the candidate's environment: the candidate's failure
            if self._judge is not None:
                return self._final(problem, proof, timeout_s, ran.seconds)
            why = f"{printed.error} {printed.detail}".strip() or "no fingerprint printed"
            said = f"the trusted checks could not run after it: {why}"
            return self._verdict(Status.FAIL, Reason.COMPILE_ERROR, said, seconds=ran.seconds)
        mismatch = self._compare(problem, reference, candidate, ran.seconds)
        # The REPL compares printed types, whose hygienic names drift across commands (an honest helper
        # lemma before the theorem can make them differ): with the judge, which compares expressions,
        # a statement mismatch is its to decide. Every other refusal of the REPL stands.
        if mismatch is not None and not (self._judge is not None and mismatch.reason is Reason.STATEMENT_MISMATCH):
            return mismatch
        if problem.kind is Kind.FILL_IN and reference_answers(problem) is None:
            # No answer to hold the slots to: never a PASS, whatever else the candidate did.
            said = "no reference answer to judge against"
            return self._verdict(Status.FAIL, Reason.ANSWER_UNVERIFIED, said, seconds=ran.seconds)
        if mismatch is None and problem.kind is Kind.FILL_IN:
            if (wrong := self._judge_answer(session, problem, ran)) is not None:
                return wrong
        return self._final(problem, proof, timeout_s, ran.seconds)

    def _final(self, problem: Problem, proof: str, timeout_s: float, seconds: float) -> Verdict:
        """The trusted judge's verdict on what the REPL let through (the REPL's PASS where there is no judge)."""
        if self._judge is None:
            return self._verdict(Status.PASS, Reason.PROVED, seconds=seconds)
        request = judge_request(problem, proof, self._header_imports, timeout_s)
        raw = self._judge(request)
        try:
            judgement = Judgement.parse(raw)
        except (KeyError, TypeError, ValueError):
            raise VerifierUnavailable(f"the trusted judge's answer does not fit: {str(raw)[:300]}") from None
        found = judged(judgement, request["theorem_names"], candidate_is_challenge=problem.kind is Kind.FILE)
        if found is not None:
            return self._verdict(*found, seconds=seconds)
        return self._verdict(Status.PASS, Reason.PROVED, seconds=seconds)

    def _compare(
        self, problem: Problem, reference: list[dict[str, Any]], candidate: dict[Any, dict[str, Any]], seconds: float
    ) -> Verdict | None:
        found = statement_mismatch(reference, candidate) or axioms_not_allowed(reference, candidate)
        return self._verdict(*found, seconds=seconds) if found is not None else None

    def _judge_answer(self, session: LeanSession, problem: Problem, ran: Answer) -> Verdict | None:
        """A wrong or unverified fill-in answer; None when every slot equals its reference answer."""
        pairs = reference_answers(problem)
        if pairs is None:
            return self._verdict(
                Status.FAIL, Reason.ANSWER_UNVERIFIED, "no reference answer to judge against", seconds=ran.seconds
            )
        fill_in = problem.extension(FillInAnswer)
        templates = dict(fill_in.answer_checks) if fill_in is not None else {}
        for slot, answer in pairs:
            template = templates.get(slot)
            same = session.run(
                answer_command(slot, answer, mathlib=self._mathlib, template=template), ran.env, TRUSTED_TIMEOUT_S
            )
            if same.ok and not same.messages("error"):
                continue
            differs = session.run(
                answer_command(slot, answer, negate=True, mathlib=self._mathlib, template=template),
                ran.env,
                TRUSTED_TIMEOUT_S,
            )
            if differs.ok and not differs.messages("error"):
                return self._verdict(Status.FAIL, Reason.WRONG_ANSWER, f"`{slot}` is not {answer}", seconds=ran.seconds)
            return self._verdict(
                Status.FAIL,
                Reason.ANSWER_UNVERIFIED,
                f"`{slot}` could not be shown equal to {answer}",
                seconds=ran.seconds,
            )
        return None

    def close(self) -> None:
        """Stop every REPL."""
        self._pool.close()
