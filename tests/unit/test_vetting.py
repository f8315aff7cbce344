from __future__ import annotations

import pytest

from provebench.core.model import Reason, Status
from provebench.systems.hol_light.ocaml_lexer import LexicalError, TokenKind, check_brackets, tokenize
from provebench.systems.hol_light.vetting import (
    Violation,
    find_violations,
    own_bindings,
    shield_own_bindings,
    vet_proof,
)


def rules(text: str) -> list[str]:
    return [v.rule for v in find_violations(tokenize(text))]


def test_tokenizer_understands_comments_strings_and_quotations() -> None:
    toks = tokenize('(* CHEAT_TAC (* nested *) "*)" *) REWRITE_TAC[`mk_thm = x`] THEN "new_axiom"')
    assert [(t.kind, t.text) for t in toks] == [
        (TokenKind.IDENT, "REWRITE_TAC"),
        (TokenKind.SYMBOL, "["),
        (TokenKind.QUOTATION, "`mk_thm = x`"),
        (TokenKind.SYMBOL, "]"),
        (TokenKind.IDENT, "THEN"),
        (TokenKind.LITERAL, '"new_axiom"'),
    ]


def test_names_inside_comments_strings_and_terms_are_not_flagged() -> None:
    assert rules("(* mk_thm *) REWRITE_TAC[] THEN MESON_TAC[] (* ;; *)") == []
    assert rules('let s = "Obj.magic ;; CHEAT_TAC" in ARITH_TAC') == []
    assert rules("SUBGOAL_THEN `new_axiom = 1` ASSUME_TAC") == []


LIT, ID, SYM, QUO = TokenKind.LITERAL, TokenKind.IDENT, TokenKind.SYMBOL, TokenKind.QUOTATION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"" x', [(LIT, '""'), (ID, "x")]),
        ('"a\\"b" x', [(LIT, '"a\\"b"'), (ID, "x")]),  # an escaped quote does not end the string
        ("{|a|} x {id|b|}|id}", [(LIT, "{|a|}"), (ID, "x"), (LIT, "{id|b|}|id}")]),
        ("x {id|a|}b|id} y", [(ID, "x"), (LIT, "{id|a|}b|id}"), (ID, "y")]),
        ("{||} x", [(LIT, "{||}"), (ID, "x")]),
        ("(**) x", [(ID, "x")]),
        ("(* a *)x", [(ID, "x")]),
        ("(* {|*)|} *) x", [(ID, "x")]),  # a quoted string in a comment hides `*)` as OCaml's lexer does
        ("(* {id|*)|id} *) x", [(ID, "x")]),
        ("(* '\"' *) x", [(ID, "x")]),  # a character literal in a comment opens no string
        ("X_GEN_TAC `x:num`", [(ID, "X_GEN_TAC"), (QUO, "`x:num`")]),
        ("`` x", [(QUO, "``"), (ID, "x")]),  # a quotation ends at the next backquote, even an empty one
        ("EL 10 l", [(ID, "EL"), (LIT, "10"), (ID, "l")]),
        (
            "REWRITE_TAC[A;B];; x",
            [(ID, "REWRITE_TAC"), (SYM, "["), (ID, "A"), (SYM, ";"), (ID, "B"), (SYM, "]"), (SYM, ";;"), (ID, "x")],
        ),
    ],
)
def test_literals_comments_and_separators_are_the_tokens_ocaml_reads(
    text: str, expected: list[tuple[TokenKind, str]]
) -> None:
    assert [(t.kind, t.text) for t in tokenize(text)] == expected


def test_char_literals_and_type_variables() -> None:
    toks = tokenize("let c = '\"' in let f (x : 'a) = x in ARITH_TAC")
    assert any(t.text == "'\"'" and t.kind is TokenKind.LITERAL for t in toks)
    assert rules("let c = '\"' in ARITH_TAC") == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ARITH_TAC;; new_axiom `F`", "phrase-terminator"),
        ("CHEAT_TAC", "forbidden-name"),
        ("ACCEPT_TAC (mk_thm([], `F`))", "forbidden-name"),
        ("let th = Obj.magic 0 in ACCEPT_TAC th", "forbidden-module"),
        ("let _ = Stdlib.exit 0 in ARITH_TAC", "forbidden-module"),
        ('let _ = Sys.command "ls" in ARITH_TAC', "forbidden-module"),
        ("let module M = List in ARITH_TAC", "forbidden-keyword"),
        ("let open List in ARITH_TAC", "forbidden-keyword"),
        ('#use "x"', "toplevel-directive"),
        ("let r = ref 0 in let () = r := 1 in ARITH_TAC", "assignment"),
        ('let _ = print_string "x" in ARITH_TAC', "forbidden-name"),
        ("let _ = the_axioms in ARITH_TAC", "forbidden-name"),
        ("let _ = new_definition `c = 1` in ARITH_TAC", "forbidden-name"),
        ('let _ = String.unsafe_get "a" 0 in ARITH_TAC', "forbidden-name"),
        ("<:expr< 1 >>", "camlp5-quotation"),
        ("let q = << 1 >> in ARITH_TAC", "camlp5-quotation"),
        ("ARITH_TAC THEN Sys.", "forbidden-module"),  # a module path at the very end of the text
    ],
)
def test_each_rule_fires(text: str, rule: str) -> None:
    assert rule in rules(text)


def test_allowed_modules_pass() -> None:
    assert rules("MAP_EVERY (fun t -> SPEC_TAC(t, t)) (List.rev [`x:num`])") == []
    assert rules('Printf.printf "x" 1') == []  # a member as the proof's first words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let _ = x.print_string in ARITH_TAC", ["forbidden-name"]),  # a record field, not a module's member
        ('let _ = Sys.print_string "x" in ARITH_TAC', ["forbidden-module", "forbidden-name"]),
        ("let _ = List.\nprint_string in ARITH_TAC", ["forbidden-name"]),
    ],
)
def test_a_refused_name_is_exempt_only_right_after_an_allowed_module(text: str, expected: list[str]) -> None:
    assert rules(text) == expected


def test_a_violation_names_its_token_line_and_column() -> None:
    found = find_violations(tokenize("ARITH_TAC THEN\n  CHEAT_TAC"))
    assert found == [Violation("forbidden-name", "CHEAT_TAC", 2, 3)]
    assert found[0].message() == "rule forbidden-name: `CHEAT_TAC` at line 2, column 3"


@pytest.mark.parametrize(
    "text",
    [
        # from s2n-bignum's reference proofs: its own read_* and set_* definitions, formatting, arrays
        "REPEAT GEN_TAC THEN REWRITE_TAC [read_REX_prefix] THEN BITMATCH_CASES_TAC",
        "REWRITE_TAC[set_key_schedule; read_over_write; read_prefixes_eq_cons]",
        'let s = Printf.sprintf "(word %d)" 15 in ARITH_TAC',
        'let () = List.iter (fun t -> Printf.printf "assuming: %s\\n" t) [] in ARITH_TAC',
        "let a = Array.init 32 (fun i -> Some (i > 3)) in ARITH_TAC",
        "MP_TAC(ISPEC `set_of_list [1]` FINITE_SET_OF_LIST) THEN ARITH_TAC",
    ],
)
def test_names_of_s2n_bignum_proofs_pass(text: str) -> None:
    assert rules(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "let _ = read_line () in ARITH_TAC",
        'let _ = file_of_string "/tmp/x" "y" in ARITH_TAC',
        "let _ = set_basic_rewrites [] in ARITH_TAC",
        "let _ = Array.unsafe_get [|1|] 0 in ARITH_TAC",
        "let _ = Printf.printf in new_basic_definition `c = T`",
    ],
)
def test_named_io_and_settings_stay_refused(text: str) -> None:
    assert "forbidden-name" in rules(text)


@pytest.mark.parametrize(
    "text",
    ['ARITH_TAC "', "ARITH_TAC (* open", "ARITH_TAC `x", "{foo|never closed", "{|}", "{ab|ab}"],
)
def test_unterminated_literals_are_lexical_errors(text: str) -> None:
    with pytest.raises(LexicalError):
        tokenize(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('ARITH_TAC THEN\n  "abc', "unterminated string starting at line 2, column 3"),
        ("x {id|abc|i}", "unterminated quoted string starting at line 1, column 3"),
        ("x (* (* *)", "unterminated comment starting at line 1, column 3"),
        ("x\n`abc", "unterminated term quotation starting at line 2, column 1"),
        ("x \\ y", "unexpected character '\\\\' starting at line 1, column 3"),
    ],
)
def test_a_lexical_error_says_what_is_wrong_and_where_it_starts(text: str, message: str) -> None:
    with pytest.raises(LexicalError) as caught:
        tokenize(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ARITH_TAC)", "unbalanced `)` at line 1, column 10"),
        ("x\n ([ARITH_TAC]", "unclosed `(` at line 2, column 2"),
    ],
)
def test_an_unbalanced_bracket_is_named_with_its_place(text: str, message: str) -> None:
    with pytest.raises(LexicalError) as caught:
        check_brackets(tokenize(text))
    assert str(caught.value) == message


@pytest.mark.parametrize("text", ["ARITH_TAC)", "(ARITH_TAC", "REWRITE_TAC[ADD_SYM)"])
def test_brackets_must_balance(text: str) -> None:
    with pytest.raises(LexicalError):
        check_brackets(tokenize(text))


def test_vet_proof_verdicts() -> None:
    assert vet_proof("ARITH_TAC", 1000) is None
    v = vet_proof("   ", 1000)
    assert v is not None and (v.status, v.reason) == (Status.FAIL, Reason.NO_PROOF)
    v = vet_proof("(* only a comment *)", 1000)
    assert v is not None and v.reason is Reason.NO_PROOF
    v = vet_proof("A" * 2000, 1000)
    assert v is not None and v.reason is Reason.TOO_LARGE
    v = vet_proof("ARITH_TAC\x00", 1000)
    assert v is not None and v.reason is Reason.INVALID_TEXT
    v = vet_proof("ARITH_TAC)", 1000)
    assert v is not None and (v.status, v.reason) == (Status.FAIL, Reason.COMPILE_ERROR)
    v = vet_proof("CHEAT_TAC THEN mk_thm", 1000)
    assert v is not None and (v.status, v.reason) == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)
    assert len(v.messages) == 2 and "line 1, column 1" in v.messages[0]


def test_injection_is_cheating_even_with_unbalanced_brackets() -> None:
    v = vet_proof("ARITH_TAC) : tactic));; let forged = new_axiom `F` in ((ARITH_TAC", 1000)
    assert v is not None and (v.status, v.reason) == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)


# From s2n-bignum's arm/proofs/mldsa_rej_uniform_eta2_VARIABLE_TIME.ml (abridged).
S2N_OWN_BINDING = """(fun (asl, w) ->
  let new_facts = List.concat (List.map (fun (_, h) -> CONJUNCTS (concl h)) asl) in
  (MAP_EVERY ASSUME_TAC new_facts) (asl, w)) THEN ARITH_TAC"""


def test_a_name_the_proof_binds_itself_passes_and_is_shielded() -> None:
    assert rules(S2N_OWN_BINDING) == []
    assert own_bindings(tokenize(S2N_OWN_BINDING)) == ["new_facts"]
    assert shield_own_bindings(S2N_OWN_BINDING) == f"(fun new_facts -> ({S2N_OWN_BINDING}\n)) ()"
    assert shield_own_bindings("ARITH_TAC") == "ARITH_TAC"
    two = "let rec print_all x = x and the_rest = 1 in fun open_x -> ARITH_TAC open_x"
    assert rules(two) == []
    assert shield_own_bindings(two) == f"(fun print_all the_rest open_x -> ({two}\n)) () () ()"


@pytest.mark.parametrize(
    "text",
    [
        "let new_axiom = 1 in ARITH_TAC",  # named exactly, so refused even when bound
        "let pb_tactic_slot = 1 in ARITH_TAC",  # the check server's own names
        "let new_unsafe_x = 1 in ARITH_TAC",
        "let x = new_facts in ARITH_TAC",  # used, never bound
        "let _ = List.map (fun x -> x) [] in new_definition `c = T`",
    ],
)
def test_binding_exempts_only_bound_names_of_the_prefix_families(text: str) -> None:
    assert "forbidden-name" in rules(text)


def test_a_name_with_unsafe_in_it_is_never_an_own_binding() -> None:
    assert own_bindings(tokenize("let new_unsafe_x = 1 in ARITH_TAC")) == []
    assert shield_own_bindings("let new_unsafe_x = 1 in ARITH_TAC") == "let new_unsafe_x = 1 in ARITH_TAC"
