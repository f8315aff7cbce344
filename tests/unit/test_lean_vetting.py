"""Static vetting of Lean candidates (issue 32): attributes, scopes, options and the words that register code.

Each rule with the honest forms it lets through and the hostile ones it refuses, the attacks of the issue
among them. The verdicts these flags give run through the real verifier in tests/adversarial/lean/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.systems.lean.tokens import LeanToken, name_parts, tokenize
from provebench.systems.lean.vetting import flags

THEOREM = "theorem t (a b : Nat) : a + b = b + a := Nat.add_comm a b\n"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "combibench" / "combibench.jsonl"


def _words(candidate: str, statement: str = "") -> list[str]:
    return [f.word for f in flags(candidate, statement)]


def test_tokens_carry_their_offsets_and_names_their_parts() -> None:
    text = "set_option maxHeartbeats 400000 in\n  x.end"
    tokens = tokenize(text)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens][:3] == ["set_option", "maxHeartbeats", "4"]  # digits stay one token each
    assert LeanToken("sorry", 3) == LeanToken("sorry", 3, 0)  # made by hand as before
    assert name_parts("A.«B.C».d") == ["A", "B.C", "d"] and name_parts("«sorryAx»") == ["sorryAx"]


@pytest.mark.parametrize(
    "word",
    [
        "initialize",
        "builtin_initialize",
        "declare_syntax_cat",
        "simproc",
        "dsimproc",
        "simproc_decl",
        "dsimproc_decl",
        "register_simp_attr",
        "register_option",
        "export",
    ],
)
def test_words_that_register_code_or_aliases_are_refused(word: str) -> None:
    assert _words(f"{word} foo\n{THEOREM}") == [word]


def test_a_guillemet_quoted_name_is_the_name() -> None:
    assert _words("theorem t : False := «sorryAx» False false") == ["sorryAx"]
    assert _words("theorem t : 1 = 1 := Lean.«ofReduceBool» _ _ rfl") == ["ofReduceBool"]


HONEST_ATTRIBUTES = [
    "@[simp] theorem x : 1 = 1 := rfl",
    "@[simp 1100, norm_cast] theorem x : 1 = 1 := rfl",
    "@[local simp] theorem x : 1 = 1 := rfl",
    "@[scoped simp] theorem x : 1 = 1 := rfl",
    "attribute [local simp] Nat.add_comm Nat.mul_comm",
    "attribute [-simp] Nat.add_comm",
    '@[to_additive "doc"] theorem x : 1 = 1 := rfl',
    "@[to_additive (attr := simp)] theorem x : 1 = 1 := rfl",
    '@[deprecated foo (since := "2024-01-01")] theorem x : 1 = 1 := rfl',
    "@[ext] structure P where\n  a : Nat",
    "@[reducible] def f := 1\nattribute [local irreducible] f",
    "@[continuity, measurability, gcongr, mono] theorem x : 1 = 1 := rfl",
    "@[simps, mk_iff, inline, specialize, elab_as_elim, match_pattern] def f := 1",
    "@[nolint unusedArguments, inherit_doc, pp_nodot, coe] def f := 1",
    "@[refl, symm, trans, congr, grind, fun_prop, field_simps, push_cast] theorem x : 1 = 1 := rfl",
]


@pytest.mark.parametrize("text", HONEST_ATTRIBUTES)
def test_attributes_that_tag_for_existing_tactics_are_allowed(text: str) -> None:
    assert _words(f"{text}\n{THEOREM}") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What `elab` expands to: an elaborator of the candidate's, run by the trusted commands after the file.
        (
            "open Lean Elab Command in\n"
            "@[command_elab Lean.Parser.Command.eval] def f : CommandElab := fun _ => pure ()",
            ["@[command_elab]"],
        ),
        (
            "open Lean Elab Command in\ndef f : CommandElab := fun _ => pure ()\n"
            "attribute [command_elab Lean.Parser.Command.eval] f",
            ["@[command_elab]"],
        ),
        ("@[term_elab foo] def f := 1", ["@[term_elab]"]),
        ("@[tactic Lean.Parser.Tactic.decide] def f := 1", ["@[tactic]"]),
        ("attribute [local tactic Lean.Parser.Tactic.decide] f", ["@[tactic]"]),
        ("@[macro foo] def f := 1", ["macro", "@[macro]"]),
        ("@[delab app.f, app_unexpander f] def g := 1", ["@[delab]", "@[app_unexpander]"]),
        ("@[norm_num _ + _] def f := 1\n@[positivity _] def g := 1", ["@[norm_num]", "@[positivity]"]),
        ("@[init f, env_linter] def g := 1", ["@[init]", "@[env_linter]"]),
        ("@[csimp] theorem x : f = g := rfl", ["@[csimp]"]),
        ("@[implemented_by g] def f := 1", ["implemented_by", "@[implemented_by]"]),
        ('@[extern "c_f"] opaque f : Nat', ["extern", "@[extern]"]),
        ("@[export c_f] def f := 1", ["export", "@[export]"]),
        ("@[builtin_command_elab foo] def f := 1", ["@[builtin_command_elab]"]),
        ("@[simp, command_elab foo] def f := 1", ["@[command_elab]"]),
        ("@[«command_elab» foo] def f := 1", ["@[command_elab]"]),
        ("@[to_additive (attr := simp, command_elab foo)] def f := 1", ["@[command_elab]"]),
        ('@[deprecated (since := "x"), local term_elab foo] def f := 1', ["@[term_elab]"]),
        # aesop's default builder runs a `TacticM Unit` declaration as a rule.
        ("@[aesop safe] def f : Lean.Elab.Tactic.TacticM Unit := pure ()", ["@[aesop]"]),
        ("@[default_instance] instance : HAdd Nat Nat Nat := ⟨fun _ _ => 0⟩", ["@[default_instance]", "instance"]),
        ("@[instance] def i : Inhabited Nat := ⟨0⟩", ["instance"]),
        ("attribute [local instance] Classical.propDecidable", ["instance"]),
    ],
)
def test_attributes_that_register_code_are_refused(text: str, expected: list[str]) -> None:
    assert sorted(_words(f"{text}\n{THEOREM}")) == sorted(expected)


def test_attribute_lists_too_deep_to_read_are_refused_and_each_list_is_read_once() -> None:
    assert _words("@[" + "to_additive (attr := " * 5 + "simp" + ")" * 5 + "] def f := 1") == ["@[...]"]
    assert _words("@[" + "to_additive (attr := " * 4 + "simp" + ")" * 4 + "] def f := 1") == []
    # An `@[` inside a list is an entry of that list, not a list of its own to read again.
    assert _words("@[@[@[simp]]] def f := 1") == ["@[@]"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@[Mathlib.foo] def f := 1", ["@[Mathlib.foo]"]),  # a dotted attribute is named whole
        # A nested list's entries are all kept, however many lists come after them.
        ("@[to_additive (attr := command_elab foo, to_additive (attr := simp))] def f := 1", ["@[command_elab]"]),
        ("@[to_additive (attr := simp)] theorem a : 1 = 1 := rfl\n" * 6, []),  # each list ends at its bracket
        # An entry is an attribute name and what follows it: `attr :=` is read as a list only after the name.
        ("@[to_additive attr := command_elab foo] def f := 1", ["@[command_elab]"]),
        ("@[attr := command_elab foo] def f := 1", ["@[attr]"]),
    ],
)
def test_an_attribute_list_is_read_entry_by_entry(text: str, expected: list[str]) -> None:
    assert _words(text) == expected


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("@[" + "to_additive (attr := " * 5 + "\nsimp foo" + ")" * 5 + "] def f := 1", 1),
        # The line of the `=` that opens the list, where its `:` stands on the line before.
        ("@[" + "to_additive (attr := " * 4 + "to_additive (attr :\n= simp" + ")" * 5 + "] def f := 1", 2),
    ],
)
def test_a_list_too_deep_to_read_is_flagged_on_the_line_of_its_opening(text: str, line: int) -> None:
    assert [(f.word, f.line) for f in flags(text, "")] == [("@[...]", line)]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [("@", []), ("attribute", []), ("@[", []), ("@[local", []), ("@[simp", []), ("@[foo", ["@[foo]"])],
)
def test_a_file_cut_off_inside_an_attribute_list_is_vetted_without_error(tail: str, expected: list[str]) -> None:
    assert _words(THEOREM + tail) == expected


def test_an_attribute_is_allowed_as_often_as_the_statement_uses_it() -> None:
    statement = "attribute [local aesop safe] Nat.le_refl\n@[default_instance] instance i : Inhabited Nat := ⟨0⟩\n"
    assert _words(statement + THEOREM, statement) == []
    extra = statement + THEOREM + "@[aesop norm] def f : Lean.Elab.Tactic.TacticM Unit := pure ()\n"
    assert _words(extra, statement) == ["@[aesop]"]


HONEST_SCOPES = [
    "namespace Foo\ndef x := 1\nend Foo",
    "section\nopen Nat\nend",
    "section Bar\nend Bar",
    "noncomputable section\ndef x := 1\nend",
    "noncomputable section Baz\nend Baz",
    "namespace A.B\nend A.B",
    "namespace A\nnamespace B\nend A.B",  # CombiBench's imo_2022_p6 closes two this way
    "namespace A.B\nend B\nend A",
    "namespace «my ns»\nend «my ns»",
    "mutual\ndef f : Nat → Nat\n  | 0 => 0\n  | n + 1 => g n\ndef g : Nat → Nat\n  | 0 => 0\n  | n + 1 => f n\nend",
    "def x := (Foo.mk 1).end + Foo.end\ndef «end» := 1",  # a field or name spelled `end` is not the keyword
]


@pytest.mark.parametrize("text", HONEST_SCOPES)
def test_scopes_opened_and_closed_are_allowed(text: str) -> None:
    assert _words(f"{text}\n{THEOREM}") == []


def test_a_namespace_left_open_is_refused_naming_it_and_its_line() -> None:
    # The attack: a trusted command elaborated after this file, in its scope, would resolve
    # `Lean.collectAxioms` to `Decoy.Lean.collectAxioms`.
    decoy = THEOREM + "\nnamespace Decoy\n\ndef Lean.collectAxioms (_ : Lean.Name) : IO (Array Lean.Name) := pure #[]\n"
    found = flags(decoy, "")
    assert [f.message() for f in found] == ["line 3: `namespace Decoy` is left open at the end of the file"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("section\n", ["line 2: `section` is left open at the end of the file"]),
        ("section Hidden\nopen Nat\n", ["line 2: `section Hidden` is left open at the end of the file"]),
        ("noncomputable section\n", ["line 2: `noncomputable section` is left open at the end of the file"]),
        ("namespace A.B\nend B\n", ["line 2: `namespace A.B` is left open at the end of the file"]),
        ("end\n", ["line 2: `end` closes no open scope"]),
        ("namespace A\nend A\nend A\n", ["line 4: `end A` closes no open scope"]),
        ("section A\nend B\n", ["line 3: `end B` does not close `section A` (opened on line 2)"]),
        ("namespace A\nend\n", ["line 3: `end` does not close `namespace A` (opened on line 2)"]),
        ("section\nend A\n", ["line 3: `end A` does not close `section` (opened on line 2)"]),
        ("mutual\ndef f := 1\n", ["line 2: `mutual` is left open at the end of the file"]),
        ("end\nsection\nend\n", ["line 2: `end` closes no open scope"]),  # a later `end` keeps what came before
        ("namespace A\nnamespace B\nend C.D\n", ["line 4: `end C.D` does not close `namespace A` (opened on line 2)"]),
    ],
)
def test_scopes_left_open_or_closed_wrongly_are_refused(text: str, expected: list[str]) -> None:
    assert [f.message() for f in flags(THEOREM + text, "")] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("noncomputable section\n", ["line 1: `noncomputable section` is left open at the end of the file"]),
        ("section\n" + THEOREM + "noncomputable", ["line 1: `section` is left open at the end of the file"]),
        # The first word of a file that ends in a dot is still a keyword, not a field.
        (
            "namespace Decoy\n" + THEOREM + "-- Decoy stays open.",
            ["line 1: `namespace Decoy` is left open at the end of the file"],
        ),
    ],
)
def test_a_scope_opened_by_the_first_words_of_the_file_is_read(text: str, expected: list[str]) -> None:
    assert [f.message() for f in flags(text, "")] == expected


def test_a_scope_the_statement_leaves_open_may_be_left_open_the_same() -> None:
    statement = "namespace Imo_2024_p5\n\ntheorem t : 1 = 1 := by sorry\n"  # as CombiBench's imo_2024_p5
    assert _words(statement.replace("by sorry", "rfl"), statement) == []
    assert _words("namespace Other\ntheorem t : 1 = 1 := rfl\n", statement) == ["namespace Other"]


HONEST_OPTIONS = [
    "set_option maxHeartbeats 400000 in\ntheorem x : 1 = 1 := rfl",
    "set_option maxHeartbeats 0",
    "set_option maxHeartbeats 200000",
    "set_option maxRecDepth 10000",
    "set_option maxRecDepth 512 in\ntheorem x : 1 = 1 := rfl",
    "set_option synthInstance.maxHeartbeats 0\nset_option synthInstance.maxHeartbeats 40000",
    "set_option synthInstance.maxSize 256",
    "set_option linter.unusedVariables false\nset_option linter.style.longLine true",
    "set_option pp.proofs true\nset_option pp.maxSteps 100000",
    "set_option autoImplicit false\nset_option relaxedAutoImplicit false",
    "set_option trace.Meta.synthInstance false",
    "theorem x : 1 = 1 := by\n  set_option maxHeartbeats 400000 in\n  rfl",
    'def s : String := "a"\nset_option maxHeartbeats 400000 in\ntheorem x : 1 = 1 := rfl',  # a string before it
]


@pytest.mark.parametrize("text", HONEST_OPTIONS)
def test_options_within_the_allowlist_and_its_bounds_are_allowed(text: str) -> None:
    assert _words(f"{text}\n{THEOREM}") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set_option maxHeartbeats 1", "set_option maxHeartbeats 1"),  # the attack, at the end
        ("set_option maxHeartbeats 199999 in\ntheorem x : 1 = 1 := rfl", "set_option maxHeartbeats 199999"),
        ("set_option maxHeartbeats 0x10", "set_option maxHeartbeats ?"),
        ("set_option maxHeartbeats 1_000_000", "set_option maxHeartbeats ?"),
        ('set_option maxHeartbeats "1"', "set_option maxHeartbeats ?"),
        ('set_option maxHeartbeats "1" 400000', "set_option maxHeartbeats ?"),
        ("set_option maxHeartbeats /- a comment -/ 1", "set_option maxHeartbeats 1"),
        ("set_option «maxHeartbeats» 1", "set_option maxHeartbeats 1"),
        ("set_option maxRecDepth 100", "set_option maxRecDepth 100"),
        ("set_option synthInstance.maxHeartbeats 1", "set_option synthInstance.maxHeartbeats 1"),
        ("set_option synthInstance.maxSize 1", "set_option synthInstance.maxSize 1"),
        ("set_option linter.unusedVariables 1", "set_option linter.unusedVariables 1"),
        ("set_option autoImplicit 0", "set_option autoImplicit 0"),
        ("set_option trace.Meta.synthInstance true", "set_option trace.Meta.synthInstance true"),
        ('set_option pp.funBinderTypes "yes"', "set_option pp.funBinderTypes ?"),
        ("set_option profiler true", "set_option profiler"),
        ("set_option compiler.extract_closed false", "set_option compiler.extract_closed"),
        ("set_option backward.synthInstance.canonInstances false", "set_option backward.synthInstance.canonInstances"),
        ("set_option", "set_option"),
    ],
)
def test_options_outside_the_allowlist_or_its_bounds_are_refused(text: str, expected: str) -> None:
    assert _words(f"{THEOREM}{text}\n") == [expected]


def test_debug_options_are_refused_with_the_words_they_carry() -> None:
    assert _words("set_option debug.skipKernelTC true in\n" + THEOREM) == [
        "skipKernelTC",
        "set_option debug.skipKernelTC",
    ]
    messages = [f.message() for f in flags("set_option maxHeartbeats 1\n", "")]
    assert messages == [
        "line 1: `set_option maxHeartbeats 1` is refused: the value must be at least Lean's default 200000 or 0 "
        "(no limit)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set_option\n", ["line 2: `set_option` names no option"]),
        (
            "set_option 1\nset_option maxHeartbeats 1\n",
            [
                "line 2: `set_option` names no option",
                "line 3: `set_option maxHeartbeats 1` is refused: the value must be at least Lean's default 200000 "
                "or 0 (no limit)",
            ],
        ),
        ("set_option profiler true\n", ["line 2: `set_option profiler` is not an option a candidate may set"]),
        (
            'set_option pp.funBinderTypes "yes"\n',
            ["line 2: `set_option pp.funBinderTypes ?` is refused: the value must be true, false or a number"],
        ),
        (
            "set_option trace.Meta.synthInstance true\n",
            ["line 2: `set_option trace.Meta.synthInstance true` is refused: traces may only be turned off"],
        ),
        (
            "set_option linter.unusedVariables 1\n",
            ["line 2: `set_option linter.unusedVariables 1` is refused: the value must be true or false"],
        ),
    ],
)
def test_a_refused_option_is_named_with_its_line_and_why(text: str, expected: list[str]) -> None:
    assert [f.message() for f in flags(THEOREM + text, "")] == expected


@pytest.mark.skipif(not SHARED.is_file(), reason=f"the shared CombiBench data is not beside the project ({SHARED})")
def test_every_combibench_statement_and_answer_statement_passes_vetting(tmp_path: Path) -> None:
    """Each statement as imported, against itself, and with its reference answer filled in: nothing but sorry."""
    from provebench.suites.combibench import import_combibench
    from provebench.suites.load import load_suite
    from provebench.systems.lean.fill_in import FillInAnswer

    import_combibench(SHARED, tmp_path / "suite")
    problems = load_suite(tmp_path / "suite").problems
    assert len(problems) == 100
    for p in problems:
        fill_in = p.extension(FillInAnswer)
        texts = [p.statement] + ([fill_in.answer_statement] if fill_in and fill_in.answer_statement else [])
        for text in texts:
            assert set(_words(text, p.statement)) <= {"sorry"}, p.id
    assert sum(1 for p in problems if (f := p.extension(FillInAnswer)) and f.answer_statement) >= 40


FORGE = (
    "open Lean Elab Tactic in\ndef forge : TacticM Unit := do\n"
    "  let g ← getMainGoal\n  g.assign (← mkSorry (← g.getType) false)\n"
)
HONEST_AESOP = [
    "theorem x (a : Nat) : a ≤ a := by aesop",
    "theorem x (a : Nat) : a ≤ a := by aesop?",
    "theorem x (a : Nat) : a ≤ a := by aesop (add safe Nat.le_refl)",
    "theorem x (a : Nat) : a ≤ a := by aesop (add unsafe 50% apply Nat.le_of_lt, norm simp Nat.add_zero)",
    "theorem x (a : Nat) : a ≤ a := by aesop (add safe [Nat.le_refl, Nat.zero_le]) (erase Aesop.BuiltinRules.intros)",
    "theorem x (a : Nat) : a ≤ a := by aesop (rule_sets [-builtin]) (config := { terminal := true })",
    "theorem x (a : Nat) (h : a ≤ a) : a ≤ a := by aesop (add safe h)",
    # A theorem of the file's own is a proposition's proof, never a tactic: as a rule it is applied.
    "theorem h (a : Nat) : a ≤ a := Nat.le_refl a\ntheorem x (a : Nat) : a ≤ a := by aesop (add safe h)",
    # A builder that uses a definition as a term or by its equations runs none of its code.
    "def f : Nat := 1\ntheorem x : f = 1 := by aesop (add norm unfold f)",
    "def f : Nat := 1\ntheorem x : f = 1 := by aesop (add norm [unfold f, simp Nat.add_zero])",
    "def f : Nat := 1\ntheorem x : f = 1 := by aesop (erase f)",
    # A structure's fields are projections taking the structure: never a tactic.
    "structure P where\n  x : Nat\n  pos : 0 < x\ntheorem t (p : P) : 0 < p.x := by aesop (add safe p.pos)",
]


@pytest.mark.parametrize("text", HONEST_AESOP)
def test_aesop_with_library_lemmas_hypotheses_and_theorems_of_the_file_is_allowed(text: str) -> None:
    assert _words(f"{text}\n{THEOREM}") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("theorem x : 1 = 1 := by aesop (add safe tactic Lean.Elab.Tactic.evalDecide)", ["aesop (add tactic)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop (add safe forge)", ["aesop (add forge)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop? (add unsafe 10% (forge))", ["aesop? (add forge)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop (add safe _root_.forge)", ["aesop (add _root_.forge)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop (add safe default forge)", ["aesop (add forge)"]),
        # A builder on one branch of a list does not hold for the branch beside it.
        (FORGE + "theorem x : 1 = 1 := by aesop (add safe [unfold Nat.add, forge])", ["aesop (add forge)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop (add norm unfold Nat.add, safe forge)", ["aesop (add forge)"]),
        # Declared in a namespace, named through `open`; or quoted; or on the lines after the call.
        (
            "namespace H\n" + FORGE + "end H\nopen H in\ntheorem x : 1 = 1 := by aesop (add safe H.forge)",
            ["aesop (add H.forge)"],
        ),
        (FORGE + "theorem x : 1 = 1 := by aesop (add safe «forge»)", ["aesop (add «forge»)"]),
        (FORGE + "theorem x : 1 = 1 := by\n  aesop\n    (add safe\n      forge)", ["aesop (add forge)"]),
        # The tactics built on aesop that pass their clauses on.
        (FORGE + "theorem x : 1 = 1 := by aesop_cat (add safe forge)", ["aesop_cat (add forge)"]),
        (FORGE + "theorem x : 1 = 1 := by aesop_graph? (add safe forge)", ["aesop_graph? (add forge)"]),
        (FORGE + "theorem x : 1 = 1 := by restrict_tac (add safe forge)", ["restrict_tac (add forge)"]),
        # What a theorem's `where` or a `let rec` declares is a definition.
        (
            "theorem h : True := trivial\nwhere\n  aux : Nat := 1\n  forge : Lean.Elab.Tactic.TacticM Unit := pure ()\n"
            "theorem x : 1 = 1 := by aesop (add safe h.forge)",
            ["aesop (add h.forge)"],
        ),
        # Rule sets, and option terms aesop evaluates as compiled code.
        ("def S : Nat := 1\ntheorem x : 1 = 1 := by aesop (rule_sets [S])", ["aesop (rule_sets S)"]),
        ("def c : Aesop.Options := {}\ntheorem x : 1 = 1 := by aesop (config := c)", ["aesop (config c)"]),
        (
            "def c : Lean.Meta.Simp.Config := {}\ntheorem x : 1 = 1 := by aesop (simp_config := c)",
            ["aesop (simp_config c)"],
        ),
        # `unsafe` inside a term of a clause is the keyword, not aesop's phase.
        ("theorem x : 1 = 1 := by aesop (add safe (unsafe Nat.le_refl))", ["unsafe"]),
        (FORGE + "add_aesop_rules safe tactic forge", ["add_aesop_rules"]),
    ],
)
def test_aesop_clauses_that_run_the_file_s_own_code_are_refused(text: str, expected: list[str]) -> None:
    assert _words(f"{text}\n{THEOREM}") == expected
