"""Lean 4 verifier: static flags, then warm REPLs (one per checker, each behind the in-container driver).

A check, in layers (a clean compile proves nothing):
1. static flags from a Lean-aware tokenizer (``lean_vetting``);
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

import json
import queue
import re
import secrets
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from provebench.errors import UserError, VerifierUnavailable
from provebench.model import CheckerInfo, Kind, Problem, Reason, Status, System, Verdict
from provebench.settings import Settings
from provebench.verify.api import Verifier
from provebench.verify.hol_session import LaunchedToplevel
from provebench.verify.lean_vetting import LeanLexicalError, flags
from provebench.verify.starters import Starters

T = TypeVar("T")
STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler", "Lean.ofReduceNat"})
TRUSTED_TIMEOUT_S = 120.0  # a trusted command: the fingerprint, an answer check
_REPLY_GRACE_S = 30.0
_IMPORT_LINE = re.compile(r"^\s*import\s+(\S+)\s*$")
_DECLARATION = re.compile(
    r"^(?:@\[[^\]]*\]\s*)?(?:(?:noncomputable|private|protected|nonrec)\s+)*"
    r"(?:theorem|lemma|def|abbrev)\s+([^\s:({\[]+)",
    re.MULTILINE,
)


class LeanLauncher(Protocol):
    """Starts the check driver (in a container, or a local process for tests)."""

    def launch(self) -> LaunchedToplevel:
        """Prepare one driver process; the caller spawns ``argv``."""
        ...


class LocalLeanLauncher:
    """Runs the driver with the host's python3 around a REPL command on the host (tests, development)."""

    def __init__(
        self,
        repl_argv: Sequence[str],
        cwd: str | None = None,
        memory_mb: int = 0,
        max_uses: int = 200,
        max_rss_mb: float = 0,
    ):
        from provebench.containers import resource_root

        self._argv = [
            sys.executable,
            str(resource_root() / "harness" / "lean" / "driver.py"),
            f"--memory-mb={memory_mb}",
            f"--max-uses={max_uses}",
            f"--max-rss-mb={max_rss_mb}",
            *repl_argv,
        ]
        self._cwd = cwd

    def launch(self) -> LaunchedToplevel:
        """The driver command; nothing to clean up beyond the process."""
        return LaunchedToplevel(argv=list(self._argv), cwd=self._cwd, cleanup=lambda: None, name="local-lean")


@dataclass(frozen=True)
class Answer:
    """A driver's reply to one command."""

    ok: bool
    response: dict[str, Any]
    env: str
    error: str
    detail: str
    seconds: float

    def messages(self, severity: str) -> list[dict[str, Any]]:
        """The REPL's messages of one severity."""
        return [m for m in self.response.get("messages", []) if m.get("severity") == severity]


class LeanSession:
    """One driver process with its REPL; not thread-safe (the pool serializes)."""

    def __init__(self, launcher: LeanLauncher, header: str, load_timeout_s: float) -> None:
        self._launcher = launcher
        self._header = header
        self._load_timeout_s = load_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._cleanup: Any = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.name = ""
        self.load_seconds = 0.0
        self._stopped = False
        # As HolLightSession's: a second close() (the reader's, on EOF) waits until the container is gone.
        self._lifecycle = threading.RLock()

    def start(self) -> None:
        """Start the driver; it loads the header before it says it is ready."""
        launched = self._launcher.launch()
        with self._lifecycle:  # close() sees the container and its process, or start() sees close()
            self._cleanup, self.name = launched.cleanup, launched.name
            if self._stopped:  # closed while its container was being made: do not leave it behind
                self.close()
                raise VerifierUnavailable("the checker was stopped while it started")
            try:
                self._proc = subprocess.Popen(
                    launched.argv,
                    cwd=launched.cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    encoding="utf-8",
                )
            except OSError as exc:
                self.close()
                raise VerifierUnavailable(f"cannot start the Lean check driver: {exc}") from None
        threading.Thread(target=self._read, daemon=True).start()
        t0 = time.monotonic()
        ready = self._ask({"op": "start", "header": self._header}, self._load_timeout_s, "loading the header")
        if ready.get("op") != "ready":
            self.close()
            raise VerifierUnavailable(f"the Lean checker did not start: {ready.get('detail', ready)}")
        self.load_seconds = time.monotonic() - t0

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for line in proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _ask(self, request: dict[str, Any], timeout_s: float, doing: str) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise VerifierUnavailable("the Lean checker is not running")
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except OSError as exc:
            self.close()
            raise VerifierUnavailable(f"the Lean checker is gone ({exc})") from None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.close()
                raise VerifierUnavailable(
                    f"the Lean checker did not answer within {timeout_s:.0f} s while {doing}"
                ) from None
            if line is None:
                self.close()
                raise VerifierUnavailable(f"the Lean checker exited while {doing}")
            try:
                reply = json.loads(line)
            except json.JSONDecodeError:
                continue  # not the driver's: ignored
            if not isinstance(reply, dict):
                continue
            if reply.get("op") == "failed":
                self.close()
                raise VerifierUnavailable(f"the Lean checker failed: {reply.get('detail')}")
            if "id" not in request or reply.get("id") == request["id"]:
                return reply

    def run(self, cmd: str, env: str, timeout_s: float) -> Answer:
        """Run ``cmd`` on environment ``env`` ("header", or one a previous answer named)."""
        rid = secrets.token_hex(8)
        request = {"op": "run", "id": rid, "cmd": cmd, "env": env, "timeout_s": timeout_s}
        reply = self._ask(request, timeout_s + _REPLY_GRACE_S + self._load_timeout_s, "checking")
        response = reply.get("response")
        return Answer(
            ok=bool(reply.get("ok")),
            response=response if isinstance(response, dict) else {},
            env=str(reply.get("env", "")),
            error=str(reply.get("error", "")),
            detail=str(reply.get("detail", "")),
            seconds=float(reply.get("seconds", 0.0)),
        )

    def done(self) -> bool:
        """A check is over: the driver recycles its REPL now if it is due (never within a check)."""
        rid = secrets.token_hex(8)
        reply = self._ask({"op": "done", "id": rid}, _REPLY_GRACE_S + self._load_timeout_s, "recycling the REPL")
        return bool(reply.get("recycled"))

    def close(self) -> None:
        """Stop the driver (and its REPL); safe to call twice (from two threads), and before start() is done."""
        with self._lifecycle:
            self._stopped = True
            proc, self._proc = self._proc, None
            if proc is not None:
                try:
                    if proc.stdin is not None:
                        proc.stdin.close()
                except OSError:
                    pass
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.terminate()  # the driver takes its REPL's process group down with it
                    try:
                        proc.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            cleanup, self._cleanup = self._cleanup, None
            if cleanup is not None:
                cleanup()


def candidate_body(proof: str, header_imports: Sequence[str]) -> str:
    """The candidate without its leading imports of the header's modules (which the REPL already has)."""
    lines = proof.split("\n")
    i = 0
    while i < len(lines):
        m = _IMPORT_LINE.match(lines[i])
        if lines[i].strip() and not (m and m.group(1) in header_imports):
            break
        i += 1
    return "\n" * i + "\n".join(lines[i:])  # line numbers kept for messages


def declared_names(statement: str) -> list[str]:
    """The theorems and definitions a trusted statement declares, in order."""
    return list(dict.fromkeys(_DECLARATION.findall(statement)))


def fingerprint_command(names: Sequence[str]) -> str:
    """A trusted command printing each declaration's kind, elaborated type, value (definitions) and axioms."""
    listed = ", ".join(f"`{n}" for n in names)
    return f"""open Lean Elab Command in
#eval show CommandElabM Unit from do
  -- provebench_fingerprint [{", ".join(names)}]
  let env ← getEnv
  let mut out : Array Json := #[]
  for n in ([{listed}] : List Name) do
    match env.find? n with
    | none => out := out.push (Json.mkObj [("name", Json.str n.toString), ("missing", Json.bool true)])
    | some ci =>
      let axs ← Lean.collectAxioms n
      let kind := match ci with
        | .thmInfo _ => "theorem"
        | .defnInfo _ => "def"
        | .axiomInfo _ => "axiom"
        | _ => "other"
      let value : Json := match ci with
        | .defnInfo d => Json.str (toString d.value)
        | _ => Json.null
      out := out.push (Json.mkObj [("name", Json.str n.toString), ("kind", Json.str kind),
        ("type", Json.str (toString ci.type)), ("value", value),
        ("axioms", Json.arr (axs.map fun a => Json.str a.toString))])
  logInfo (Json.arr out).compress
"""


def answer_command(
    slot: str, answer: str, negate: bool = False, mathlib: bool = True, template: str | None = None
) -> str:
    """A trusted check that the candidate's answer equals (or, negated, differs from) the reference answer.

    CombiBench's answer-judging tactics in turn: rfl, norm_num (with Mathlib), decide, simp. A problem's
    own template (binders, functions, sets) also tries extensionality before simp.
    """
    op = "≠" if negate else "="
    norm_num = f" | norm_num [{slot}]" if mathlib else ""
    tactics = f"first | rfl{norm_num} | decide | simp [{slot}]"
    if template is None:
        return f"example : ({slot}) {op} ({answer}) := by {tactics}\n"
    if not negate:
        tactics += f" | (ext; simp [{slot}])"
    return string.Template(template).safe_substitute(solution=slot, answer=answer, op=op, tactics=tactics) + "\n"


def split_answers(answer: str, slots: int) -> list[str] | None:
    """One reference answer per slot: the answer itself, or a ``[a, b, c]`` list with one per slot."""
    if slots == 1:
        return [answer]
    text = answer.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    parts, depth, current = [], 0, ""
    for c in text[1:-1]:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += c
    parts.append(current.strip())
    return parts if len(parts) == slots else None


def reference_answers(problem: Problem) -> list[tuple[str, str]] | None:
    """Each answer slot of a fill-in problem with its reference answer, or None if there is none to judge by."""
    from provebench.suites.combibench import solution_names

    slots = solution_names(problem.id, problem.statement)
    answers = split_answers(problem.answer or "", len(slots)) if slots and problem.answer else None
    return list(zip(slots, answers, strict=True)) if answers is not None else None


def _first_info_json(answer: Answer) -> list[dict[str, Any]] | None:
    for m in answer.messages("info"):
        try:
            value = json.loads(str(m.get("data", "")))
        except json.JSONDecodeError:
            continue
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return None


def _describe(messages: list[dict[str, Any]], limit: int = 5) -> tuple[str, ...]:
    out = []
    for m in messages[:limit]:
        pos = m.get("pos") or {}
        out.append(f"line {pos.get('line', '?')}: {str(m.get('data', '')).strip()}")
    return tuple(out)


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
    ) -> None:
        self.checker = checker
        self._benchmark_judge = benchmark_judge
        self._launcher = launcher
        self._header = header
        self._header_imports = tuple(m.group(1) for line in header.split("\n") if (m := _IMPORT_LINE.match(line)))
        self._mathlib = any(m.split(".")[0] == "Mathlib" for m in self._header_imports)
        self._size = checkers
        self._max_proof_bytes = max_proof_bytes
        self._load_timeout_s = load_timeout_s
        self._idle: queue.Queue[LeanSession | BaseException] = queue.Queue()
        self._sessions: list[LeanSession] = []
        self._starting: set[LeanSession] = set()
        self._lock = threading.Lock()
        self._starters = Starters()  # close() waits for checkers still starting
        self.recycled = 0  # REPLs replaced after their uses (or above their memory cap)
        self._references: dict[str, list[dict[str, Any]]] = {}  # problem id -> the trusted statement's fingerprint
        self._prepared = False
        self._closed = False

    def prepare(self) -> None:
        """Start every REPL in parallel; raise if none could start."""
        with self._lock:
            if self._prepared:
                return
            self._prepared = True
        threads = [self._starters.start(self._start_one) for _ in range(self._size)]
        for t in threads:
            t.join()
        if not self._sessions:
            first = self._idle.get()
            raise first if isinstance(first, BaseException) else VerifierUnavailable("no Lean checker started")

    def _start_one(self) -> None:
        session = LeanSession(self._launcher, self._header, self._load_timeout_s)
        with self._lock:
            if self._closed:
                return
            self._starting.add(session)  # close() stops it too, even mid-load
        try:
            session.start()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for a checker
            session.close()
            self._idle.put(exc)
            return
        finally:
            with self._lock:
                self._starting.discard(session)
        with self._lock:
            if self._closed:
                session.close()
                return
            self._sessions.append(session)
        self._idle.put(session)

    @property
    def checker_names(self) -> list[str]:
        """The names of the live checkers."""
        return [s.name for s in self._sessions]

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Flags, then compile, fingerprint and (fill-in) judge the answer on a warm REPL."""
        if problem.system is not System.LEAN4:
            raise UserError(f"problem {problem.id} is for {problem.system.value}, not Lean 4")
        refused = self._vet(problem, proof)
        verdict = refused if refused is not None else self._check_on_checker(problem, proof, timeout_s)
        if self._benchmark_judge and verdict.reason not in (Reason.NO_PROOF, Reason.TOO_LARGE, Reason.INVALID_TEXT):
            # The benchmark's own judge also sees what provebench refuses before compiling: that is the point.
            limit = timeout_s if timeout_s is not None else problem.timeout_s
            judged = self._on_session(lambda s: self._benchmark_judged(s, problem, proof, limit))
            verdict = verdict.model_copy(update={"benchmark_pass": judged})
        return verdict

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
        sorry = ran.response.get("sorries") or any("sorry" in str(m.get("data", "")) for m in ran.messages("warning"))
        return ran.ok and not ran.messages("error") and not sorry

    def check_unvetted_for_tests(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Skip the static flags, to test the layers after compilation. Never for untrusted input."""
        return self._check_on_checker(problem, proof, timeout_s)

    def _check_on_checker(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        limit = timeout_s if timeout_s is not None else problem.timeout_s
        return self._on_session(lambda s: self._check_on(s, problem, proof, limit))

    def _on_session(self, work: Callable[[LeanSession], T]) -> T:
        """``work`` on a free warm REPL; a broken one is replaced."""
        self.prepare()
        got = self._idle.get()
        if isinstance(got, BaseException):
            raise VerifierUnavailable(f"no Lean checker could start: {got}") from got
        try:
            result = work(got)
            self.recycled += got.done()
        except VerifierUnavailable:
            got.close()
            with self._lock:
                if got in self._sessions:
                    self._sessions.remove(got)
            self._starters.start(self._start_one)
            raise
        self._idle.put(got)
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
        stated = session.run(problem.statement, "header", max(TRUSTED_TIMEOUT_S, problem.timeout_s))
        if not stated.ok or stated.messages("error"):
            why = stated.detail or "; ".join(_describe(stated.messages("error")))
            raise VerifierUnavailable(f"problem {problem.id}: the trusted statement does not compile: {why}")
        printed = session.run(fingerprint_command(names), stated.env, TRUSTED_TIMEOUT_S)
        reference = _first_info_json(printed) if printed.ok else None
        if reference is None or any(r.get("missing") for r in reference):
            raise VerifierUnavailable(f"problem {problem.id}: could not fingerprint the trusted statement")
        self._references[problem.id] = reference
        return reference

    def _check_on(self, session: LeanSession, problem: Problem, proof: str, timeout_s: float) -> Verdict:
        reference = self._reference(session, problem)
        ran = session.run(candidate_body(proof, self._header_imports), "header", timeout_s)
        if not ran.ok:
            if ran.error == "timeout":
                return self._verdict(Status.TIMEOUT, Reason.WALL_TIMEOUT, seconds=ran.seconds)
            if ran.error == "crashed":
                return self._verdict(Status.FAIL, Reason.CRASHED, "the Lean REPL died", seconds=ran.seconds)
            raise VerifierUnavailable(f"the Lean REPL refused the candidate: {ran.error}: {ran.detail}")
        errors = ran.messages("error")
        if errors:
            return self._verdict(Status.FAIL, Reason.COMPILE_ERROR, *_describe(errors), seconds=ran.seconds)
        if ran.response.get("sorries"):  # term-mode sorry shows up as sorryAx in the axioms below
            return self._verdict(Status.FAIL, Reason.SORRY, "the proof uses sorry", seconds=ran.seconds)
        names = [r["name"] for r in reference]
        printed = session.run(fingerprint_command(names), ran.env, TRUSTED_TIMEOUT_S)
        candidate = {c.get("name"): c for c in (_first_info_json(printed) or [])} if printed.ok else {}
        if not candidate:
            raise VerifierUnavailable(f"could not fingerprint the candidate: {printed.error} {printed.detail}")
        judged = self._compare(problem, reference, candidate, ran.seconds)
        if judged is not None:
            return judged
        if problem.kind is Kind.FILL_IN:
            return self._judge_answer(session, problem, ran)
        return self._verdict(Status.PASS, Reason.PROVED, seconds=ran.seconds)

    def _compare(
        self, problem: Problem, reference: list[dict[str, Any]], candidate: dict[Any, dict[str, Any]], seconds: float
    ) -> Verdict | None:
        for ref in reference:
            name = str(ref["name"])
            got = candidate.get(name)
            solution_slot = name.endswith("_solution")
            if got is None or got.get("missing"):
                if ref.get("kind") in ("theorem", "lemma"):
                    return self._verdict(Status.FAIL, Reason.MISSING_THEOREM, f"no `{name}` after the candidate ran")
                return self._verdict(Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` of the statement is gone")
            if got.get("type") != ref.get("type"):
                return self._verdict(
                    Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` does not have the statement's type"
                )
            if not solution_slot and ref.get("value") is not None and got.get("value") != ref.get("value"):
                return self._verdict(
                    Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` is not defined as in the statement"
                )
        for ref in reference:
            if ref.get("kind") not in ("theorem", "lemma"):
                continue
            axioms = set(candidate[ref["name"]].get("axioms", []))
            if "sorryAx" in axioms:
                return self._verdict(Status.FAIL, Reason.SORRY, f"`{ref['name']}` depends on sorry", seconds=seconds)
            if axioms & NATIVE_AXIOMS:
                return self._verdict(
                    Status.CHEATING,
                    Reason.NATIVE_CODE,
                    f"`{ref['name']}` trusts compiled code: {sorted(axioms & NATIVE_AXIOMS)}",
                )
            if axioms - STANDARD_AXIOMS:
                return self._verdict(
                    Status.CHEATING, Reason.DISALLOWED_AXIOM, f"`{ref['name']}` uses {sorted(axioms - STANDARD_AXIOMS)}"
                )
        return None

    def _judge_answer(self, session: LeanSession, problem: Problem, ran: Answer) -> Verdict:
        pairs = reference_answers(problem)
        if pairs is None:
            return self._verdict(
                Status.FAIL, Reason.ANSWER_UNVERIFIED, "no reference answer to judge against", seconds=ran.seconds
            )
        templates = dict(problem.answer_checks)
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
        return self._verdict(Status.PASS, Reason.PROVED, seconds=ran.seconds)

    def close(self) -> None:
        """Stop every REPL."""
        with self._lock:
            self._closed = True
            sessions, self._sessions = self._sessions + list(self._starting), []
        for s in sessions:
            s.close()
        self._starters.wait()


_DRIVER_IN_IMAGE = "/opt/provebench/harness/lean/driver.py"
_REPL_IN_IMAGE = ["lake", "env", "/opt/repl/.lake/build/bin/repl"]
_PROJECT_IN_IMAGE = "/opt/mathlib"


class DockerLeanLauncher:
    """Starts each driver (and its REPL) in its own sandboxed container of the Lean image."""

    def __init__(self, engine: Any, image: Any, limits: Any, memory_mb: int, max_uses: int) -> None:
        self._engine, self._image, self._limits = engine, image, limits
        self._command = ["python3", _DRIVER_IN_IMAGE, f"--memory-mb={memory_mb}", f"--max-uses={max_uses}"]
        self._command += _REPL_IN_IMAGE

    def launch(self) -> LaunchedToplevel:
        """Create a container whose main process is the driver; attach to it."""
        cid = self._engine.create_checker(self._image, self._command, _PROJECT_IN_IMAGE, self._limits)
        return LaunchedToplevel(
            argv=self._engine.attach_argv(cid), cwd=None, cleanup=lambda: self._engine.remove(cid), name=cid
        )


def make_lean_group_verifier(settings: Settings, problems: Sequence[Problem]) -> LeanVerifier:
    """The Lean verifier of problems sharing one header, on the configured backend."""
    import shlex

    from provebench import containers
    from provebench.settings import Backend, checker_memory_mb, checkers_in_budget

    first = problems[0]
    # REPLs are counted by memory, not by cores.
    sized = settings.model_copy(update={"memory_mb": settings.lean_memory_mb})
    common: dict[str, Any] = dict(
        header=first.context,
        checkers=checkers_in_budget(sized),
        max_proof_bytes=settings.max_proof_bytes,
        load_timeout_s=settings.load_timeout_s,
        benchmark_judge=settings.benchmark_judge,
    )
    if settings.backend is Backend.LOCAL:
        if not settings.lean_repl_command:
            raise UserError("--backend local for Lean needs PROVEBENCH_LEAN_REPL_COMMAND (and _LEAN_PROJECT_DIR)")
        launcher = LocalLeanLauncher(
            shlex.split(settings.lean_repl_command),
            str(settings.lean_project_dir) if settings.lean_project_dir else None,
            memory_mb=settings.lean_memory_mb,
            max_uses=settings.lean_max_uses,
        )
        info = CheckerInfo(
            image="local", digest="local", system=System.LEAN4, version="local", recipe="local", packages="local"
        )
        return LeanVerifier(launcher, info, **common)
    engine = containers.DockerEngine(settings)
    r, revision = containers.parse_image_ref(first.checker_image)
    built = engine.ensure_image(r, lambda _line: None, revision)
    limits = containers.SandboxLimits(memory_mb=checker_memory_mb(sized), pids=settings.pids_limit)
    docker_launcher = DockerLeanLauncher(engine, built, limits, settings.lean_memory_mb, settings.lean_max_uses)
    info = built.checker_info()
    return LeanVerifier(docker_launcher, info, **common)
