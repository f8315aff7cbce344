"""Walking template groups: every holder has exactly its problem's context, shared text is loaded once.

The checker here is a double of the check server's process tree (walkers and
holders as copies of the evaluated text), to test the walk plan in every
order; tests/integration/test_templates.py runs walks on the real checker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from provebench.model import Problem, System
from provebench.verify.hol_templates import TemplateForest, TemplateLoadError, WalkState

BASE = "".join(f"let B{i} = prove(`T`, CHEAT_TAC);;\n" for i in range(6))


@dataclass
class Seek:
    ok: bool
    error: str = ""


@dataclass
class ProcessTreeDouble:
    """Stands in for HolLightSession: a stack of processes, each the text it has evaluated."""

    stack: list[str] = field(default_factory=lambda: [""])
    holders: dict[str, str] = field(default_factory=dict)
    holder_depth: dict[str, int] = field(default_factory=dict)
    seeked_lines: int = 0
    broken_text: str | None = None

    def seek(self, text: str, timeout_s: float) -> Seek:
        if len(self.stack) == 1:
            raise AssertionError("the server itself never leaves its first position")
        if self.broken_text is not None and self.broken_text in text:
            return Seek(ok=False, error="Exception: Failure")
        self.stack[-1] += text + "\n"
        self.seeked_lines += text.count("\n") + 1
        return Seek(ok=True)

    def hold(self, key: str) -> None:
        assert key not in self.holders, "a key is held once"
        self.holders[key] = self.stack[-1]
        self.holder_depth[key] = len(self.stack) - 1

    def walk(self) -> None:
        self.stack.append(self.stack[-1])

    def end_walk(self) -> None:
        assert len(self.stack) > 1, "the server itself is never ended"
        depth = len(self.stack) - 1
        self.stack.pop()
        for key in [k for k, d in self.holder_depth.items() if d >= depth]:
            del self.holders[key], self.holder_depth[key]


def _templates(tmp_path: Path) -> dict[str, str]:
    texts = {
        "a.ml": BASE + "let A1 = prove(`A`, CHEAT_TAC);;\nlet A2 = prove(`A`, CHEAT_TAC);;\n",
        "b.ml": BASE + "let B_ONLY = prove(`B`, CHEAT_TAC);;\nlet B2 = prove(`B`, CHEAT_TAC);;\n",
        "c.ml": BASE[: BASE.index("let B3")] + "let C1 = prove(`C`, CHEAT_TAC);;\n",
        "d.ml": "let D0 = prove(`D`, CHEAT_TAC);;\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    return texts


def _problems(tmp_path: Path, texts: dict[str, str]) -> list[Problem]:
    out = []
    for name, text in texts.items():
        for n, line in enumerate(text.split("\n"), 1):
            if line.startswith("let "):
                out.append(
                    Problem(
                        id=f"{name}:{n}",
                        suite="s",
                        system=System.HOL_LIGHT,
                        statement="T",
                        timeout_s=1,
                        checker_image="hol-light",
                        template=str(tmp_path / name),
                        template_line=n,
                    )
                )
    return out


def _context(texts: dict[str, str], p: Problem) -> str:
    lines = texts[Path(str(p.template)).name].split("\n")
    return "\n".join(lines[: (p.template_line or 1) - 1]) + ("\n" if (p.template_line or 1) > 1 else "")


@pytest.mark.parametrize("seed", range(8))
def test_each_holder_has_exactly_its_problems_context_in_any_order(tmp_path: Path, seed: int) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    session, state = ProcessTreeDouble(), WalkState()
    order = problems * 2
    random.Random(seed).shuffle(order)
    for p in order:
        key = forest.key(p)
        assert key is not None
        if key not in state.held:
            state.walk_to(session, forest.routes[str(p.template)], 60)
        assert key in state.held and session.holders[key] == _context(texts, p), p.id
        assert set(state.held) == set(session.holders)


def test_shared_text_is_loaded_once_when_templates_come_one_after_another(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    forest = TemplateForest(_problems(tmp_path, texts))
    session, state = ProcessTreeDouble(), WalkState()
    for name in ("a.ml", "b.ml", "c.ml"):
        state.walk_to(session, forest.routes[str(tmp_path / name)], 60)
    base_lines = BASE.count("\n")
    # a.ml from the start; b.ml from where it parts from a.ml; c.ml from where it parts from both.
    assert session.seeked_lines < base_lines + 3 * 3
    assert len(session.stack) >= 3  # the server, a walker waiting at a branch point, the walker of c.ml


def test_a_template_that_does_not_load_leaves_the_checker_usable(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    session, state = ProcessTreeDouble(broken_text="B_ONLY"), WalkState()
    with pytest.raises(TemplateLoadError, match=r"b\.ml: lines \d+-\d+ do not load"):
        state.walk_to(session, forest.routes[str(tmp_path / "b.ml")], 60)
    assert len(session.stack) == 1 and state.stack == [] and not state.held
    a1 = next(p for p in problems if p.id.startswith("a.ml") and p.template_line == 7)
    state.walk_to(session, forest.routes[str(tmp_path / "a.ml")], 60)
    assert session.holders[str(forest.key(a1))] == _context(texts, a1)


def test_problems_at_the_same_text_share_one_holder(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    first_a = next(p for p in problems if p.id == "a.ml:1")
    first_b = next(p for p in problems if p.id == "b.ml:1")
    first_d = next(p for p in problems if p.id == "d.ml:1")
    assert forest.key(first_a) == forest.key(first_b)  # nothing before line 1 in either
    fourth_a = next(p for p in problems if p.id == "a.ml:4")
    fourth_c = next(p for p in problems if p.id == "c.ml:4")
    assert forest.key(fourth_a) == forest.key(fourth_c)
    assert forest.key(first_d) == forest.key(first_a)  # the empty context, as every template's first line
    a7 = next(p for p in problems if p.id == "a.ml:7")
    b7 = next(p for p in problems if p.id == "b.ml:7")
    assert forest.key(a7) == forest.key(b7) and forest.key(b7.model_copy(update={"template_line": 9})) is None
