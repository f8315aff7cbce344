"""TEST DOUBLE of Lean FRO's comparator (leanprover/comparator, branch pre-v25 = 97ef939, for Lean v4.24.0).

Run as the real one is, from a Lake project directory holding the two modules named by the config::

    python tests/doubles/comparator.py config.json

What it does, in comparator's order (Main.lean ``compareIt``, Comparator/Compare.lean, Comparator/Axioms.lean):

1. Reads the config as comparator's derived ``FromJson Config`` does: ``challenge_module``,
   ``solution_module`` (strings), ``theorem_names``, ``permitted_axioms`` (arrays of strings),
   ``enable_nanoda`` (a boolean: required on pre-v25), ``definition_names`` (optional array). A missing
   or mistyped field fails with ``Comparator.Config.<field>: <reason>`` (the reason worded as Lean's Json
   instances word it, read from Lean sources not pinned to v4.24.0; a JSON syntax error's text is the double's).
2. "Builds" and "exports" each module (``<module>.lean``, dots as folders), printing comparator's
   ``Building <module>`` and ``Exporting #[<targets>] from <module>``. The export targets are comparator's:
   the nanoda built-ins when ``enable_nanoda``, then the theorem names, the permitted axioms, the kernel's
   primitive ``Nat`` operations and the definition names.
3. Compares, as ``compareAt`` does: each theorem (and permitted axiom) must have the same kind (theorem or
   axiom) and the same statement in both; each definition hole must be a ``def`` in both with the same
   type and safety (its body is free); then every constant the statements use, and the constants those
   use, must be identical in both (the kernel's primitives included).
4. Checks axioms, as ``checkAxioms`` does: each theorem name must be a theorem in the solution, each
   definition name a definition; an axiom the solution's theorems or definitions use that is not
   permitted is ``Illegal axiom detected: '<name>'``.
5. Prints ``Running Lean default kernel on solution.``, ``Lean default kernel accepts the solution`` and
   ``Your solution is okay!``, and exits 0.

Any failure is thrown, as in comparator: its text goes to stderr as Lean's runtime prints an uncaught
exception of ``main`` (``uncaught exception: <text>``) and the exit code is 1. The texts are comparator's:
``Const not found in challenge: '<n>'``, ``Const not found in solution: '<n>'``,
``Challenge and solution constant kind don't match: '<n>'``,
``Challenge and solution theorem statement do not match: '<n>'``,
``Challenge constant is not a definition: '<n>'``, ``Solution constant is not a definition: '<n>'``,
``Const does not match between challenge and target '<n>'``,
``Const not found in challenge '<n>'`` and ``Const not found in solution '<n>'`` (no colon: a used constant),
``Solution constant is not a theorem: '<n>'``, ``Illegal axiom detected: '<n>'``,
``Child exited with 1`` (the sandboxed ``lake build`` failed) and
``process 'landrun' exited with code 134`` (the sandboxed ``lean4export`` aborted: it panics, and
``LEAN_ABORT_ON_PANIC=1`` makes that an abort, when a target is not in the module, e.g. a theorem the
solution does not declare under that name).

What it cannot do is run Lean. It reads declaration TEXT (tests/doubles/comparator_decls.py: each
declaration's header, body, elaboration context and the names it uses; ``namespace``/``section``/``end``
give declarations their full names). Compared as text, therefore:

* a statement matches only if its header text is the same, its names mean the same declarations of the
  file (or, declared in neither, the library's), and its elaboration context is the same: the
  ``open``, ``variable``, ``universe``, ``set_option``, notation/macro/syntax/elab, ``attribute`` and
  metaprogram (``run_cmd``, ``run_elab``, ``#eval``, ...) commands and the instances in force where it is declared. A
  solution that adds any of these before a theorem fails that theorem's statement here even where Lean
  would elaborate it to the same term; renaming a bound variable or changing a binder's brackets (which
  comparator accepts: it compares terms up to alpha-equivalence, binder annotations ignored) fails here.
* it cannot tell which constants an elaborated term uses: a name used in a text counts as used, and beyond
  that, conservatively, every non-theorem declaration of the challenge counts as used by the statements
  (so it must be in the solution, identical) and every declaration of the solution counts as used by its
  theorems (so an axiom, ``sorry``/``admit``/``stop`` (``sorryAx``), ``native_decide``/``decide +native``/
  ``bv_decide`` (``Lean.ofReduceBool``) in a solution helper fails here even where nothing uses it).
  Axioms a tactic uses unnamed (``propext``, ``Classical.choice``, ``Quot.sound`` from ``simp``, ...) are
  invisible to it.
* a name a file does not declare is taken for a library constant, the same in both files; a file may
  not redeclare the kernel primitives or the library axioms it knows without ``prelude`` (the build
  fails, as Lean's "already declared" would), and with ``prelude`` its own versions differ from the
  library's. ``private`` names carry their module (``_private.<Module>.0.<name>``), so a statement using a
  private constant never matches.
* the kernel replay is not done: a proof that does not prove its statement, or a term the kernel would
  reject, passes here (comparator's ``olean_issue`` fails here only because its ``run_elab`` is a context
  the challenge lacks). The only build failures it knows are a duplicate declaration, a redeclared library
  name, an ``end`` that does not close the innermost scope by its name, a missing module file and the
  marker below; the ``error:`` lines it prints for them are its own, not lake's. Elaboration errors of any
  other kind pass.

Scripted faults (markers in a module's text): ``-- double: error`` fails that module's build
(``Child exited with 1``); ``-- double: hang`` makes its build never end (for timeout tests).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# Run as a script (how tests run it): its own folder is first on sys.path, so its parts are top-level modules
# from any cwd. The type checker reads it as a module of its package instead.
if TYPE_CHECKING:
    from .comparator_decls import KNOWN_LIBRARY, LIBRARY_AXIOMS, PRIMITIVES, Decl, Module, read_module
    from .comparator_text import lean_name
else:
    from comparator_decls import KNOWN_LIBRARY, LIBRARY_AXIOMS, PRIMITIVES, Decl, Module, read_module
    from comparator_text import lean_name

# Main.lean `builtinTargets` (exported first when nanoda is enabled).
NANODA_BUILTINS = ("Nat", "String", "String.mk", "Char", "Char.ofNat", "List")
NANODA_QUOT = ("Quot", "Quot.mk", "Quot.lift", "Quot.ind")
# lean4export panics on a target the module lacks ("Constant <n> not found in environment."); with
# LEAN_ABORT_ON_PANIC=1 the runtime aborts (SIGABRT); landrun exec's its command, so comparator's Child.wait
# sees the signal and reports 128 + 6; IO.Process.run (stdout and stderr captured) throws this text.
EXPORT_ABORTED = "process 'landrun' exited with code 134"
BUILD_FAILED = "Child exited with 1"


class Thrown(Exception):
    """An error comparator throws: ``main`` ends with it, as an uncaught exception (exit code 1)."""


# ----- comparator's steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """comparator's ``structure Config`` (pre-v25)."""

    challenge_module: str
    solution_module: str
    theorem_names: tuple[str, ...]
    definition_names: tuple[str, ...]
    permitted_axioms: tuple[str, ...]
    enable_nanoda: bool


def read_config(path: str) -> Config:
    """As ``Lean.Json.parse`` and the derived ``FromJson Config``: fields in order, the first bad one thrown."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Thrown(f"no such file or directory (error code: 2)\n  file: {path}") from exc
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise Thrown(f"offset {exc.pos}: {exc.msg}") from exc
    obj = data if isinstance(data, dict) else {}

    def field_of(name: str, kind: str, optional: bool = False) -> object:
        value = obj.get(name)
        prefix = f"Comparator.Config.{name}: "
        if value is None and optional:
            return ()
        if kind == "string":
            if not isinstance(value, str):
                raise Thrown(prefix + "String expected")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise Thrown(prefix + "Bool expected")
            return value
        if not isinstance(value, list):
            shown = "null" if value is None else json.dumps(value, separators=(",", ":"))
            raise Thrown(prefix + f"expected JSON array, got '{shown}'")
        if not all(isinstance(v, str) for v in value):
            raise Thrown(prefix + "String expected")
        return tuple(value)

    challenge = field_of("challenge_module", "string")
    solution = field_of("solution_module", "string")
    theorems = field_of("theorem_names", "array")
    definitions = field_of("definition_names", "array", optional=True)
    axioms = field_of("permitted_axioms", "array")
    nanoda = field_of("enable_nanoda", "bool")
    assert isinstance(challenge, str) and isinstance(solution, str) and isinstance(nanoda, bool)
    assert isinstance(theorems, tuple) and isinstance(definitions, tuple) and isinstance(axioms, tuple)
    return Config(challenge, solution, theorems, definitions, axioms, nanoda)


class Comparison:
    """comparator's run, on the two modules' texts."""

    def __init__(self, config: Config, challenge: Module, solution: Module) -> None:
        self.config = config
        self.challenge = challenge
        self.solution = solution
        self.permitted = set(config.permitted_axioms)

    # A constant as a module's export has it: its own declaration, or the library's (None: the export lacks it).
    def const(self, mod: Module, name: str) -> Decl | str | None:
        other = self.solution if mod is self.challenge else self.challenge
        if mod.declares(name):
            return mod.exported(name)
        if name in KNOWN_LIBRARY or not other.declares(name):
            return "library"
        return None

    def kind(self, c: Decl | str) -> str:
        if isinstance(c, Decl):
            return c.kind
        return "axiom"  # a library constant named as a target here is a permitted axiom or a primitive

    def export_targets(self) -> list[str]:
        targets: list[str] = []
        if self.config.enable_nanoda:
            targets += NANODA_BUILTINS
            if "Quot.sound" in self.permitted:
                targets += NANODA_QUOT
        return [
            *targets,
            *self.config.theorem_names,
            *self.config.permitted_axioms,
            *PRIMITIVES,
            *self.config.definition_names,
        ]

    def export(self, mod: Module) -> None:
        """lean4export panics (and aborts) on a target the module's environment lacks."""
        library = set(KNOWN_LIBRARY) | set(NANODA_BUILTINS) | set(NANODA_QUOT)
        other = self.solution if mod is self.challenge else self.challenge
        for name in self.export_targets():
            if mod.declares(name) or name in library:
                continue
            if name in self.permitted and not other.declares(name):
                continue  # taken for an axiom of the library
            raise Thrown(EXPORT_ABORTED)  # its panic text went to the captured, unshown stderr

    def same_statement(self, c: Decl | str, s: Decl | str) -> bool:
        if isinstance(c, str) or isinstance(s, str):
            return c == s
        if c.private_refs or s.private_refs:
            return False  # a private constant's name carries its module
        # The same text naming other constants (a solution's `X.k` shadowing `k` in namespace X) is another type.
        return (c.header, c.context, c.header_refs) == (s.header, s.context, s.header_refs)

    def compare_at(self) -> None:
        worklist: list[str] = list(PRIMITIVES)
        for target in (*self.config.theorem_names, *self.config.permitted_axioms):
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge: '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if not (self.kind(c) == self.kind(s) and self.kind(c) in ("theorem", "axiom")):
                raise Thrown(f"Challenge and solution constant kind don't match: '{target}'")
            if not self.same_statement(c, s):
                raise Thrown(f"Challenge and solution theorem statement do not match: '{target}'")
            if isinstance(c, Decl):
                worklist += c.header_refs
        for target in self.config.definition_names:
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge: '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if not isinstance(c, Decl) or c.kind != "def":
                raise Thrown(f"Challenge constant is not a definition: '{target}'")
            if not isinstance(s, Decl) or s.kind != "def":
                raise Thrown(f"Solution constant is not a definition: '{target}'")
            if not self.same_statement(c, s) or c.safety != s.safety:
                raise Thrown(f"Const does not match between challenge and target '{target}'")
            worklist.append(target)
        # The double's conservative part: every non-theorem declaration of the challenge counts as used.
        assumed = [n for n, d in self.challenge.decls.items() if d.kind != "theorem" and n not in worklist]
        self.loop([*reversed(assumed), *worklist])

    def loop(self, worklist: list[str]) -> None:
        holes = set(self.config.definition_names)
        checked: set[str] = set()
        while worklist:
            target = worklist.pop()
            if target in checked:
                continue
            c = self.const(self.challenge, target)
            if c is None:
                raise Thrown(f"Const not found in challenge '{target}'")
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution '{target}'")
            if target in holes and isinstance(s, Decl):
                worklist += [n for n in s.header_refs if n not in checked]
            else:
                if (mismatch := self.mismatch(target, c, s)) is not None:
                    raise Thrown(f"Const does not match between challenge and target '{mismatch}'")
                if isinstance(s, Decl):
                    worklist += [n for n in (*s.header_refs, *s.body_refs) if n not in checked]
            checked.add(target)

    def mismatch(self, target: str, c: Decl | str, s: Decl | str) -> str | None:
        """None if the two constants are identical; else the name comparator reports."""
        if isinstance(c, str) or isinstance(s, str):
            return None if c == s else target
        if c.kind == s.kind == "inductive" and (c.header, c.context) == (s.header, s.context) and c.body != s.body:
            if [n for n, _ in c.ctors] == [n for n, _ in s.ctors]:
                for (name, ct), (_, st) in zip(c.ctors, s.ctors, strict=True):
                    if ct != st:
                        return f"{target}.{name}"
            return target
        same = (c.kind, c.header, c.body, c.hints, c.safety, c.context, c.header_refs, c.body_refs) == (
            s.kind,
            s.header,
            s.body,
            s.hints,
            s.safety,
            s.context,
            s.header_refs,
            s.body_refs,
        )
        return None if same and not (c.private_refs or s.private_refs) else target

    def check_axioms(self) -> None:
        worklist: list[str] = []
        for target in self.config.theorem_names:
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if self.kind(s) != "theorem":
                raise Thrown(f"Solution constant is not a theorem: '{target}'")
            worklist.append(target)
        for target in self.config.definition_names:
            s = self.const(self.solution, target)
            if s is None:
                raise Thrown(f"Const not found in solution: '{target}'")
            if self.kind(s) != "def":
                raise Thrown(f"Solution constant is not a definition: '{target}'")
            worklist.append(target)
        checked: set[str] = set()
        while worklist:
            target = worklist.pop()
            if target in checked:
                continue
            for used in self.used(target):
                self.validate(used)
                if used not in checked:
                    worklist.append(used)
            checked.add(target)
        # The double's conservative part: every declaration of the solution counts as used.
        for name, d in self.solution.decls.items():
            if d.safety == "unsafe":
                continue  # not exported: nothing comparator checks can use it
            for used in self.used(name):
                self.validate(used)

    def used(self, name: str) -> list[str]:
        """As comparator's ``runForUsedConsts``: the type's constants, the constant, the value's constants."""
        d = self.solution.decls.get(name)
        if d is None:
            return [name]
        return [*d.header_refs, name, *d.body_refs, *d.axioms]

    def validate(self, name: str) -> None:
        d = self.solution.decls.get(name)
        is_axiom = d.kind == "axiom" if d is not None else name in LIBRARY_AXIOMS
        if is_axiom and name not in self.permitted:
            raise Thrown(f"Illegal axiom detected: '{name}'")


def build(module: str, mod: Module | None) -> Module:
    """``lake build <module>`` in the sandbox: fails (exit 1) on what the double can see is an error."""
    print(f"Building {lean_name(module)}", flush=True)
    if mod is None:
        print(f"error: unknown target '{module}'", flush=True)
        raise Thrown(BUILD_FAILED)
    if mod.hang:
        while True:
            time.sleep(3600)
    if mod.build_errors:
        for error in mod.build_errors:
            print(f"error: {error}", flush=True)
        print("error: build failed", flush=True)
        raise Thrown(BUILD_FAILED)
    return mod


def run(config: Config) -> None:
    challenge = read_module(config.challenge_module)
    solution = read_module(config.solution_module)
    comparison = Comparison(
        config, challenge or Module(config.challenge_module), solution or Module(config.solution_module)
    )
    shown = "#[" + ", ".join(lean_name(t) for t in comparison.export_targets()) + "]"
    for module, mod in ((config.challenge_module, challenge), (config.solution_module, solution)):
        built = build(module, mod)
        print(f"Exporting {shown} from {lean_name(module)}", flush=True)
        comparison.export(built)
    comparison.compare_at()
    comparison.check_axioms()
    if config.enable_nanoda:
        print("Running nanoda kernel on solution", flush=True)
        print("Nanoda kernel accepts the solution", flush=True)
    print("Running Lean default kernel on solution.", flush=True)
    print("Lean default kernel accepts the solution", flush=True)
    print("Your solution is okay!", flush=True)


def main(argv: Iterable[str]) -> int:
    args = list(argv)
    try:
        if not args:
            raise Thrown("Expected config file path as first argument.")
        run(read_config(args[0]))
    except Thrown as exc:
        sys.stdout.flush()
        print(f"uncaught exception: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
