"""The Lean tokenizer under vetting: what it yields, what it leaves out, and the errors it names."""

from __future__ import annotations

import pytest

from provebench.systems.lean.tokens import LeanLexicalError, is_keyword, tokenize


def _texts(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('x r"sorry" y', ["x", "y"]),  # a raw string's contents are no tokens
        ('x r#"a "sorry" b"# y', ["x", "y"]),  # with hashes it ends only at `"#`
        ('r"a" x "b"', ["x"]),  # and at its first closing quote
        ('(r"a")', ["(", ")"]),
        ("#eval 1", ["#eval", "1"]),  # a command is one token
        ("/-/- a -/ b -/ x", ["x"]),  # comments nest
        ("(/- a -/)", ["(", ")"]),
    ],
)
def test_strings_and_comments_are_left_out_and_what_follows_them_kept(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('x\nr"abc', "unterminated raw string starting at line 2"),
        ('x\nr#"abc"', "unterminated raw string starting at line 2"),
        ('x\n"abc', "unterminated string starting at line 2"),
        ("\nx\n/- a\nb", "unterminated comment starting at line 3"),
    ],
)
def test_an_unterminated_string_or_comment_is_an_error_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(LeanLexicalError) as caught:
        tokenize(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "index", "keyword"),
    [
        (".end", 1, False),  # a field, even at the very start
        ("(x).end", 4, False),
        ("end x.", 0, True),  # the first word of a text that ends in a dot
        ("end x", 0, True),
    ],
)
def test_a_word_right_after_a_dot_is_a_field_not_the_keyword(text: str, index: int, keyword: bool) -> None:
    tokens = tokenize(text)
    assert tokens[index].text == "end"
    assert is_keyword(tokens, index, text, "end") is keyword
