"""TEST DOUBLE of the Lean REPL process (leanprover-community/repl at provebench's pin), for machines without Lean.

Its protocol is the real REPL's, held to the REPL's own recorded transcripts by
tests/integration/test_lean_repl_conformance.py. In: requests separated by blank lines; a request's
lines are each right-trimmed and joined without their line breaks (a literal newline inside a JSON
string is lost), and one that starts with ``#`` or ``--`` is skipped. A request is, in the order the
REPL tries them: a tactic ``{"tactic", "proofState"}``, a pickle or unpickle of an environment or a
proof state, a command ``{"cmd", "env"?}`` (no ``env``: a fresh environment, where ``import`` is
allowed) or a file ``{"path", "env"?}``; unknown keys are ignored. Anything else (not JSON, an empty
request, no kind that fits) ends the process with an uncaught exception, as in the real REPL. Out:
each reply as pretty-printed JSON, then a blank line. A command's reply is ``{"env": N}`` with
``messages`` and ``sorries`` when they are not empty; a message has ``severity``, ``pos``, ``endPos``
and ``data``; each ``sorry`` has its ``goal``, a new ``proofState`` and its position, and a
declaration that uses one gets the warning ``declaration uses 'sorry'`` at its name (an ``example``
at its keyword). Environments and proof states are numbered from 0 as they are made. Errors are
``{"message": ...}``: an unknown environment or proof state, a file that cannot be read.

What it cannot do is elaborate Lean: it keeps each declaration's header and body as text, for
provebench's checks to compare. It understands just enough of a file:
``theorem``/``lemma``/``def``/``abbrev``/``axiom``/``instance``/``example`` declarations at the start
of a line, ``namespace``, ``sorry``, ``native_decide``, ``#exit``, ``import``, and provebench's
trusted commands (the fingerprint ``#eval`` and the answer check ``example``), which it answers from
those texts. A sorry's goal is the declaration's binders as hypotheses and its stated type, as
written. It runs no tactics (a tactic on a known proof state is answered with an error), makes no
tactic lists or info trees (``allTactics``, ``rootGoals``, ``infotree`` are accepted and ignored),
and pickles are its own JSON, not .olean files. Scripted faults, for the checker's limits:
``-- double: hang`` (never answers), ``-- double: crash`` (exits),
``-- double: error TEXT`` (an error message), ``-- double: slow SECONDS``.
With PB_LEAN_REPL_DOUBLE_HANGING set to a path, the double makes that file as it starts to hang, so
that a test can wait for a hanging check to be under way instead of sleeping.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

DECL = re.compile(
    r"^(?:@\[[^\]]*\]\s*)?(?:(?:noncomputable|private|protected|nonrec|unsafe|partial)\s+)*"
    r"(?P<kind>theorem|lemma|def|abbrev|axiom|instance|example)\b\s*(?P<name>[^\s:({\[]*)(?P<rest>.*)$",
    re.DOTALL,
)
# A top-level chunk starts at a line beginning with a declaration keyword or a command; Lean does not
# care about indentation, so a declaration keyword may be indented (CombiBench's imo_2022_p1 is). The
# commands that are also tactics (`open ... in`, `set_option ... in`) start a chunk only at column 0.
CHUNK_START = re.compile(
    r"^(?:[ \t]*(?:@\[|noncomputable|private|protected|unsafe|partial|theorem|lemma|def|abbrev|axiom|instance"
    r"|example)\b|(?:#|open|namespace|end|section|variable|set_option))",
    re.MULTILINE,
)
# CombiBench's own appended answer example: `example: SLOT = ANSWER := by try rfl; try norm_num`.
BENCHMARK_EXAMPLE = re.compile(r"^example\s*:\s*(?P<lhs>[\w.']+) = (?P<rhs>.*?) := by", re.DOTALL)
# The verifier's trusted answer check, plain or from a problem's template (binders passed by name,
# the reference answer ascribed the slot's type).
ANSWER_CHECK = re.compile(
    r"^example(?P<binders>(?:\s*[({\[][^)}\]]*[)}\]])*)\s*:\s*\((?P<lhs>[\w.']+)(?P<args>(?:\s*\(\w+ := \w+\))*)\) "
    r"(?P<op>=|≠) \((?P<rhs>.*)\) := by",
    re.DOTALL,
)
FINGERPRINT = re.compile(r"provebench_fingerprint \[(?P<names>[^\]]*)\]")
COMMENT = re.compile(r"--[^\n]*|/-.*?-/", re.DOTALL)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
# The kind of constant each keyword makes, as Lean's environment has it (Mathlib's `lemma` is a theorem).
CONSTANT_KIND = {"theorem": "theorem", "lemma": "theorem", "def": "def", "abbrev": "def", "instance": "def"}
UNKNOWN_ENV: dict[str, object] = {"message": "Unknown environment."}
NO_TACTICS: dict[str, object] = {"message": "this double of the Lean REPL runs no tactics"}


@dataclass
class Decl:
    kind: str
    name: str
    header: str  # binders and type, as written
    body: str
    axioms: set[str] = field(default_factory=set)


@dataclass
class Env:
    decls: dict[str, Decl] = field(default_factory=dict)


@dataclass
class Source:
    """A command's text with its comments blanked out (and, for its structure, its strings), offsets kept."""

    text: str
    uncommented: str = ""
    plain: str = ""

    def __post_init__(self) -> None:
        self.uncommented = COMMENT.sub(blank, self.text)
        self.plain = STRING.sub(blank, self.uncommented)

    def position(self, offset: int) -> dict[str, int]:
        """Lean's position: lines from 1, columns (in characters) from 0."""
        return {"line": self.text.count("\n", 0, offset) + 1, "column": offset - self.text.rfind("\n", 0, offset) - 1}

    def message(self, severity: str, data: str, start: int, end: int) -> dict[str, object]:
        return {"severity": severity, "pos": self.position(start), "endPos": self.position(end), "data": data}

    def chunks(self) -> Iterator[tuple[int, int]]:
        """The top-level chunks' offsets: a new one starts at a line beginning with a keyword or a command."""
        starts = sorted({0, *(m.start() for m in CHUNK_START.finditer(self.plain))})
        yield from zip(starts, [*starts[1:], len(self.text)], strict=True)


def blank(m: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", m.group())


def closing(text: str) -> int:
    """Where the bracket ``text`` opens with closes (its last character if it never does)."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c in "({[⦃") - (c in ")}]⦄")
        if depth == 0:
            return i
    return len(text) - 1


def split_signature(header: str) -> tuple[list[tuple[list[str], str]], str]:
    """A declaration's binders (names, type) and its stated type, from its text."""
    binders: list[tuple[list[str], str]] = []
    rest = header.strip()
    while rest[:1] in ("(", "{", "[", "⦃"):
        end = closing(rest)
        inner = rest[1:end]
        names, colon, written = inner.partition(":")
        binders.append((names.split(), written) if colon else (["inst✝"], inner))
        rest = rest[end + 1 :].strip()
    return [(names, " ".join(t.split())) for names, t in binders], " ".join(rest.removeprefix(":").split())


def goal(header: str) -> str:
    """A sorry's goal as the REPL prints one: the hypotheses (a run of one type on one line), then ⊢ the type."""
    binders, stated = split_signature(header)
    lines: list[tuple[list[str], str]] = []
    for names, written in binders:
        if lines and lines[-1][1] == written:
            lines[-1][0].extend(names)
        else:
            lines.append((list(names), written))
    return "\n".join([*(f"{' '.join(names)} : {written}" for names, written in lines), f"⊢ {stated}"])


Sorries = list[tuple[str, dict[str, int], dict[str, int]]]  # goal, pos, endPos


def scripted(cmd: str) -> None:
    """The scripted faults: hang, crash, slow."""
    if "-- double: hang" in cmd:
        if mark := os.environ.get("PB_LEAN_REPL_DOUBLE_HANGING"):
            Path(mark).touch()
        while True:
            time.sleep(3600)
    if "-- double: crash" in cmd:
        sys.exit(137)
    if (m := re.search(r"-- double: slow ([0-9.]+)", cmd)) is not None:
        time.sleep(float(m.group(1)))


def run(cmd: str, env: Env | None) -> tuple[Env, list[dict[str, object]], Sorries]:
    """A command on an environment (none: a fresh one): the new environment, its messages and its sorries."""
    scripted(cmd)
    source = Source(cmd)
    new = Env(decls=dict(env.decls) if env else {})
    messages: list[dict[str, object]] = []
    sorries: Sorries = []
    if (m := re.search(r"-- double: error (.*)", cmd)) is not None:
        messages.append(source.message("error", m.group(1), m.start(), m.end()))
    namespaces: list[str] = []
    for start, end in source.chunks():
        lead = start + len(source.plain[start:end]) - len(source.plain[start:end].lstrip())
        plain, text = source.plain[lead:end].rstrip(), source.uncommented[lead:end].rstrip()
        if (ns := re.match(r"namespace\s+(\S+)", plain)) is not None:
            namespaces.append(ns.group(1))
        elif re.match(r"end\b", plain) and namespaces:
            namespaces.pop()
        elif plain.startswith("#exit"):
            break
        elif plain.startswith("import"):
            if env is not None:
                data = "invalid 'import' command, it must be used in the beginning of the file"
                messages.append(source.message("error", data, lead, lead + len(plain)))
        elif (fp := FINGERPRINT.search(cmd[start:end])) is not None:
            names = [n.strip().strip("`") for n in fp.group("names").split(",") if n.strip()]
            at = lead + max(plain.find("#eval"), 0)
            data = json.dumps([fingerprint(new, n) for n in names])
            messages.append(source.message("info", data, at, at + len("#eval")))
        elif (ac := ANSWER_CHECK.match(text)) is not None and judged(ac, plain):
            messages.extend(answer_check(new, ac, source, lead))
        elif (be := BENCHMARK_EXAMPLE.match(text)) is not None and judged(be, plain):
            messages.extend(answer_check(new, be, source, lead, op="=", failed="unsolved goals"))
        elif (d := DECL.match(plain)) is not None:
            declare(new, d, source, lead, namespaces, messages, sorries)
    return new, messages, sorries


def declare(
    env: Env,
    d: re.Match[str],
    source: Source,
    lead: int,
    namespaces: list[str],
    messages: list[dict[str, object]],
    sorries: Sorries,
) -> None:
    """One declaration into ``env``, with its messages and sorries (positions from ``lead``, its offset)."""
    kind, name = d.group("kind"), d.group("name")
    name = ".".join([*namespaces, name]) if name else name
    # Lean reports a declaration at its name; one without a name at its keyword.
    at = (lead + d.start("name"), lead + d.end("name")) if name else (lead + d.start("kind"), lead + d.end("kind"))
    rest_at = lead + d.start("rest")
    rest_plain = d.group("rest")
    split = len(rest_plain) if kind == "axiom" or ":=" not in rest_plain else rest_plain.index(":=")
    header = source.uncommented[rest_at : rest_at + split]
    body = source.uncommented[rest_at + split + 2 : lead + d.end("rest")] if kind != "axiom" else ""
    if name and name in env.decls:
        messages.append(source.message("error", f"'{name}' has already been declared", *at))
        return
    axioms = {name} if kind == "axiom" else {"propext"}
    used = set(re.findall(r"[\w.']+", body))
    for other in used & set(env.decls):
        axioms |= env.decls[other].axioms
    body_at = rest_at + split + 2
    found = list(re.finditer(r"\bsorry\b", source.plain[body_at : lead + d.end("rest")])) if kind != "axiom" else []
    for s in found:
        sorries.append((goal(header), source.position(body_at + s.start()), source.position(body_at + s.end())))
    if found:
        messages.append(source.message("warning", "declaration uses 'sorry'", *at))
        axioms.add("sorryAx")
    if re.search(r"\bnative_decide\b", body):
        axioms.add("Lean.ofReduceBool")
    if name:
        env.decls[name] = Decl(kind, name, " ".join(header.split()), " ".join(body.split()), axioms)


def fingerprint(env: Env, name: str) -> dict[str, object]:
    d = env.decls.get(name)
    if d is None:
        return {"name": name, "missing": True}
    kind = CONSTANT_KIND.get(d.kind, d.kind)
    value = d.body if kind == "def" else None
    return {"name": name, "kind": kind, "type": d.header, "value": value, "axioms": sorted(d.axioms)}


def judged(m: re.Match[str], plain: str) -> bool:
    """An answer check the double judges by its texts: a named slot's, proved without sorry (else a plain example)."""
    return not m.group("lhs")[0].isdigit() and re.search(r"\bsorry\b", plain) is None


def answer_check(
    env: Env,
    m: re.Match[str],
    source: Source,
    lead: int,
    op: str | None = None,
    failed: str = "linarith failed, first | rfl | ... failed",
) -> list[dict[str, object]]:
    d = env.decls.get(m.group("lhs"))
    if d is None:
        at = lead + m.start("lhs")
        return [source.message("error", f"Unknown identifier `{m.group('lhs')}`", at, lead + m.end("lhs"))]
    rhs = " ".join(m.group("rhs").split())
    declared_type = " ".join(d.header.partition(":")[2].split())
    if declared_type and rhs.startswith("(") and rhs.endswith(f" : {declared_type})"):
        rhs = rhs[1 : -len(f" : {declared_type})")]  # the template's type ascription
    equal = " ".join(d.body.split()) == rhs
    holds = equal if (op or m.group("op")) == "=" else not equal
    return [] if holds else [source.message("error", failed, lead, lead + len("example"))]


def natural(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def text(v: object) -> bool:
    return isinstance(v, str)


def flag(v: object) -> bool:
    return isinstance(v, bool)


Fields = dict[str, Callable[[object], bool]]
OPTIONS: Fields = {"env": natural, "allTactics": flag, "rootGoals": flag, "infotree": text}
# The REPL's requests in the order it tries them: kind, required fields, optional ones (absent or null).
KINDS: list[tuple[str, Fields, Fields]] = [
    ("tactic", {"proofState": natural, "tactic": text}, {}),
    ("pickle_env", {"env": natural, "pickleTo": text}, {}),
    ("unpickle_env", {"unpickleEnvFrom": text}, {}),
    ("pickle_state", {"proofState": natural, "pickleTo": text}, {}),
    ("unpickle_state", {"unpickleProofStateFrom": text}, {"env": natural}),
    ("command", {"cmd": text}, OPTIONS),
    ("file", {"path": text}, OPTIONS),
]


def die(error: str) -> NoReturn:
    """What an exception the REPL's loop does not catch does: printed, and the process ends."""
    sys.stderr.write(f"uncaught exception: {json.dumps({'message': error})}\n")
    sys.exit(1)


def parse(query: str) -> tuple[str, dict[str, Any]]:
    try:
        request = json.loads(query)
    except json.JSONDecodeError as exc:
        die(f"Could not parse JSON:\n{exc}")
    for kind, required, optional in KINDS if isinstance(request, dict) else []:
        if all(k in request and ok(request[k]) for k, ok in required.items()) and all(
            request.get(k) is None or ok(request[k]) for k, ok in optional.items()
        ):
            return kind, request
    die(f"Could not parse as a valid JSON command:\n{query.strip()}")


@dataclass
class Repl:
    """The REPL's state: its environments and proof states, each numbered by when it was made."""

    envs: list[Env] = field(default_factory=list)
    proof_states: list[str] = field(default_factory=list)  # their goals

    def answer(self, kind: str, request: dict[str, Any]) -> dict[str, object]:
        """The reply to a request of one of KINDS (each has its method)."""
        handler: Callable[[dict[str, Any]], dict[str, object]] = getattr(self, kind)
        return handler(request)

    def env(self, request: dict[str, Any]) -> Env | None:
        n = request.get("env")
        return self.envs[n] if n is not None and n < len(self.envs) else None

    def known_env(self, request: dict[str, Any]) -> bool:
        return request.get("env") is None or self.env(request) is not None

    def record(self, env: Env) -> int:
        self.envs.append(env)
        return len(self.envs) - 1

    def tactic(self, request: dict[str, Any]) -> dict[str, object]:
        return NO_TACTICS if request["proofState"] < len(self.proof_states) else {"message": "Unknown proof state."}

    def pickle_state(self, request: dict[str, Any]) -> dict[str, object]:
        # The REPL's own spelling, capital S.
        return NO_TACTICS if request["proofState"] < len(self.proof_states) else {"message": "Unknown proof State."}

    def unpickle_state(self, request: dict[str, Any]) -> dict[str, object]:
        return NO_TACTICS if self.known_env(request) else UNKNOWN_ENV

    def pickle_env(self, request: dict[str, Any]) -> dict[str, object]:
        env = self.env(request)
        if env is None:
            return UNKNOWN_ENV
        decls = {n: {**vars(d), "axioms": sorted(d.axioms)} for n, d in env.decls.items()}
        Path(request["pickleTo"]).write_text(json.dumps(decls), encoding="utf-8")
        return {"env": request["env"]}

    def unpickle_env(self, request: dict[str, Any]) -> dict[str, object]:
        decls = json.loads(Path(request["unpickleEnvFrom"]).read_text(encoding="utf-8"))
        env = Env({n: Decl(**{**d, "axioms": set(d["axioms"])}) for n, d in decls.items()})
        return {"env": self.record(env)}

    def file(self, request: dict[str, Any]) -> dict[str, object]:
        try:
            cmd = Path(request["path"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return {"message": f"cannot read {request['path']}: {exc}"}
        return self.command({**request, "cmd": cmd})

    def command(self, request: dict[str, Any]) -> dict[str, object]:
        if not self.known_env(request):
            return UNKNOWN_ENV
        new, messages, found = run(request["cmd"], self.env(request))
        out: dict[str, object] = {"env": self.record(new)}
        if messages:
            out["messages"] = messages
        sorries = []
        for text_goal, pos, end in found:
            self.proof_states.append(text_goal)
            state = len(self.proof_states) - 1
            sorries.append({"goal": text_goal, "proofState": state, "pos": pos, "endPos": end})
        if sorries:
            out["sorries"] = sorries
        return out


def read_query(stream: TextIO) -> str | None:
    """One request as the REPL reads it: lines up to a blank one, right-trimmed and joined; None at the end."""
    parts: list[str] = []
    while True:
        line = stream.readline()
        if not line.strip(" \t\r\n"):  # a blank line ends the request; the REPL keeps it
            return None if line == "" and not parts else "".join(parts) + line
        parts.append(line.rstrip(" \t\r\n"))


def emit(obj: dict[str, object]) -> None:
    """As the REPL prints: Lean's pretty JSON (here: indented), then a blank line."""
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def main() -> None:
    for stream in (sys.stdin, sys.stdout):
        assert isinstance(stream, io.TextIOWrapper)
        stream.reconfigure(encoding="utf-8", newline="\n")  # lines end at \n only, as Lean reads them
    repl = Repl()
    while (query := read_query(sys.stdin)) is not None:
        if query.startswith(("#", "--")):
            continue
        kind, request = parse(query)
        try:
            emit(repl.answer(kind, request))
        except (OSError, ValueError) as exc:  # a pickle that cannot be written or read: uncaught in the REPL too
            die(str(exc))


if __name__ == "__main__":
    main()
