"""Static vetting of Lean candidates (issue 32): the words that register code, and names as Lean reads them.

Each rule with the honest forms it lets through and the hostile ones it refuses, the attacks of the issue
among them. The verdicts these flags give run through the real verifier in tests/adversarial/lean/.
"""

from __future__ import annotations

import pytest

from provebench.verify.lean_tokens import LeanToken, name_parts, tokenize
from provebench.verify.lean_vetting import flags

THEOREM = "theorem t (a b : Nat) : a + b = b + a := Nat.add_comm a b\n"


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
