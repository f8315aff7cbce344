"""Walking template groups: every holder has exactly its problem's context, shared text is loaded once.

The checker here is a double of the check server's process tree (walkers and
holders as copies of the evaluated text), to test the walk plan in every
order; tests/integration/test_templates.py runs walks on the real checker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem, System
from provebench.systems.hol_light.template_text import CompiledContext
from provebench.systems.hol_light.templates import TemplateForest, TemplateLoadError, WalkState

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

    def drop(self, key: str) -> None:
        assert self.holder_depth[key] == len(self.stack) - 1, "only the top process's own holders are dropped"
        del self.holders[key], self.holder_depth[key]

    def context(self, handle: str | None) -> str:
        """What a check sent with this handle sees: a holder's text, or the top walker's."""
        return self.stack[-1] if handle is None else self.holders[handle]

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


def _reach(forest: TemplateForest, state: WalkState, session: ProcessTreeDouble, p: Problem) -> str | None:
    key = forest.key(p)
    assert key is not None
    return state.reach(session, forest.routes[str(p.template)], forest.position(p), key, 60)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_holders", [0, 2, 4])
def test_every_check_sees_exactly_its_problems_context_in_any_order(
    tmp_path: Path, seed: int, max_holders: int
) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    session, state = ProcessTreeDouble(), WalkState(max_holders=max_holders)
    order = problems * 2
    random.Random(seed).shuffle(order)
    for p in order:
        handle = _reach(forest, state, session, p)
        assert session.context(handle) == _context(texts, p), p.id
        assert set(state.held) == set(session.holders) and len(session.holders) <= max_holders
        assert len(session.stack) == len(state.stack) + 1


def test_in_schedule_order_each_template_is_walked_once_forward(tmp_path: Path) -> None:
    from provebench.core.verifier import schedule

    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    session, state = ProcessTreeDouble(), WalkState(max_holders=0)
    for p in schedule(problems):
        assert session.context(_reach(forest, state, session, p)) == _context(texts, p)
    base_lines = BASE.count("\n")
    # The shared text once, then each template's own part: no walk is repeated.
    own = sum(t.count("\n") - base_lines for t in texts.values() if t.startswith(BASE))
    assert session.seeked_lines <= base_lines + own + texts["d.ml"].count("\n") + 4 * len(texts)


def test_a_template_that_does_not_load_leaves_the_checker_usable(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    session, state = ProcessTreeDouble(broken_text="B_ONLY"), WalkState()
    b_last = max((p for p in problems if p.id.startswith("b.ml")), key=lambda p: p.template_line or 0)
    with pytest.raises(TemplateLoadError, match=r"b\.ml: lines \d+-\d+ do not load"):
        _reach(forest, state, session, b_last)
    assert len(session.stack) == 1 and state.stack == [] and not state.held
    a1 = next(p for p in problems if p.id.startswith("a.ml") and p.template_line == 7)
    assert session.context(_reach(forest, state, session, a1)) == _context(texts, a1)


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


def test_long_stretches_are_sent_in_chunks_that_end_between_phrases(tmp_path: Path) -> None:
    from provebench.systems.hol_light.template_text import TemplateText

    text = "".join(f"let L{i} = prove(`T`,\n  CHEAT_TAC);;\n" for i in range(100))  # phrases start on odd lines
    (tmp_path / "long.ml").write_text(text)
    problem = _problems(tmp_path, {"long.ml": text})[-1]
    t = TemplateText.of(problem)
    chunks = t.chunks(1, 200, 30)
    assert chunks[-1] == 200 and all(c in t.cuts for c in chunks[:-1])
    assert all(0 < b - a <= 30 for a, b in zip([1, *chunks], chunks, strict=False))
    assert t.chunks(5, 9, 30) == [9]


def test_a_walk_says_how_far_it_has_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from provebench.systems.hol_light import templates as hol_templates

    monkeypatch.setattr(hol_templates, "CHUNK_LINES", 60)
    text = "".join(f"let L{i} = prove(`T`,\n  CHEAT_TAC);;\n" for i in range(100))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "long.ml").write_text(text)
    problem = _problems(tmp_path / "templates", {"long.ml": text})[-1]  # at line 199
    forest, state, session = TemplateForest([problem]), WalkState(), ProcessTreeDouble()
    with caplog.at_level(logging.INFO, logger="provebench.checkers"):
        _reach(forest, state, session, problem)
    notes = [r.getMessage() for r in caplog.records if r.name == "provebench.checkers"]
    assert len(notes) >= 3 and notes[-1] == "long.ml: loaded to line 198 on the way to line 199"
    reached = [int(n.split("loaded to line ")[1].split()[0]) for n in notes]
    assert reached == sorted(reached) and all(n.endswith("on the way to line 199") for n in notes)


def test_the_cli_shows_walk_notes_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from provebench.cli.main import main

    assert main(["suites", "list"]) == 0
    assert main(["suites", "list"]) == 0  # one handler however often main runs
    capsys.readouterr()
    logging.getLogger("provebench.checkers").info("long.ml: loaded to line 198 on the way to line 199")
    assert capsys.readouterr().err == "long.ml: loaded to line 198 on the way to line 199\n"


def test_shared_with_is_the_common_leading_text_of_each_pair(tmp_path: Path) -> None:
    from provebench.systems.hol_light.template_text import TemplateText

    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    lines = {t: TemplateText.of(next(p for p in problems if p.template == t)).lines for t in forest.paths}
    for t in forest.paths:
        shared = forest.shared_with(t)
        for u in forest.paths:
            common = next((i for i, (x, y) in enumerate(zip(lines[t], lines[u], strict=False)) if x != y), None)
            expected = min(len(lines[t]), len(lines[u])) if common is None else common
            assert shared[u] == expected, (t, u)


def test_a_checker_knows_how_far_toward_a_problem_it_has_loaded(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    last = {Path(str(p.template)).name: p for p in problems}  # each template's last problem
    last_a = last["a.ml"]
    session, state = ProcessTreeDouble(), WalkState(max_holders=0)
    _reach(forest, state, session, last_a)
    route = {Path(t).name: forest.routes[t] for t in forest.paths}
    base_end = len(BASE.split("\n"))  # a.ml and b.ml part after BASE, where the walk forked
    assert state.reusable(route["a.ml"], forest.position(last_a)) == forest.position(last_a)
    assert state.reusable(route["b.ml"], forest.position(last["b.ml"])) == base_end
    assert state.reusable(route["d.ml"], forest.position(last["d.ml"])) == 1
    # going on from there loads b.ml's own part only
    before = session.seeked_lines
    _reach(forest, state, session, last["b.ml"])
    assert session.seeked_lines - before == forest.position(last["b.ml"]) - base_end


def test_a_check_goes_to_the_checker_that_has_loaded_most_of_its_context(tmp_path: Path) -> None:
    from provebench.core.model import CheckerInfo
    from provebench.systems.hol_light.verifier import HolLightVerifier

    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    forest = TemplateForest(problems)
    last = {Path(str(p.template)).name: p for p in problems}
    info = CheckerInfo(image="hol-light", digest="sha256:x", system=System.HOL_LIGHT, version="x")
    # White-box: idle checkers given as their walk states (the sessions themselves are not used here).
    verifier: Any = HolLightVerifier(launcher=None, checker=info, templates=forest)  # type: ignore[arg-type]
    walks = {}
    for name in ("d.ml", "a.ml", "c.ml"):  # three idle checkers, d.ml's idle longest
        session, state = ProcessTreeDouble(), WalkState(max_holders=0)
        _reach(forest, state, session, last[name])
        walks[name] = state
    verifier._walks = walks
    b = last["b.ml"]
    # a.ml's checker has BASE loaded (its walk forked where b.ml parts from it); c.ml's only half of it
    assert verifier._choose(["d.ml", "a.ml", "c.ml"], forest.key(b), b.template, forest.position(b)) == "a.ml"
    assert verifier._choose(["d.ml", "c.ml"], forest.key(b), b.template, forest.position(b)) == "c.ml"


def _compiled_base() -> CompiledContext:
    import hashlib

    return CompiledContext("base", BASE.count("\n"), hashlib.sha256(BASE.encode()).hexdigest())


def _expanded(session_text: str, context: CompiledContext) -> str:
    """What a process that loaded ``context`` compiled has evaluated, written as the text it stands for."""
    return session_text.replace(context.directive + "\n", BASE)


def test_a_compiled_context_stands_for_exactly_its_text(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    base = _compiled_base()
    # Problems after the base text only: a.ml and b.ml load the compiled base, c.ml (a shorter prefix) and
    # d.ml their text.
    problems = [p for p in _problems(tmp_path, texts) if (p.template_line or 0) > 6 or p.id.startswith("d.ml")]
    forest = TemplateForest(problems, [base])
    routes = {Path(t).name: r for t, r in forest.routes.items()}
    assert routes["a.ml"].text_of.lines[0] == routes["b.ml"].text_of.lines[0] == base.directive
    assert base.directive not in routes["d.ml"].text_of.lines
    session, state = ProcessTreeDouble(), WalkState(max_holders=2)
    for p in problems * 2:
        handle = _reach(forest, state, session, p)
        assert _expanded(session.context(handle), base) == _context(texts, p), p.id
    # Its text is sent once, as one line, however many templates start with it.
    assert session.seeked_lines < sum(t.count("\n") for t in texts.values()) - 2 * base.lines


def test_a_compiled_context_is_not_used_where_a_problem_lies_inside_its_text(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    base = _compiled_base()
    # a.ml's problems from its first line (inside the base text), b.ml's after the base text.
    problems = [p for p in _problems(tmp_path, texts) if not p.id.startswith("b.ml") or (p.template_line or 0) > 6]
    forest = TemplateForest(problems, [base])
    routes = {Path(t).name: r for t, r in forest.routes.items()}
    assert routes["a.ml"].text_of.lines[0] != base.directive
    assert routes["b.ml"].text_of.lines[0] == base.directive
    session, state = ProcessTreeDouble(), WalkState()
    for p in problems:
        assert _expanded(session.context(_reach(forest, state, session, p)), base) == _context(texts, p), p.id


def test_a_compiled_context_of_other_text_is_not_used(tmp_path: Path) -> None:
    texts = _templates(tmp_path)
    problems = _problems(tmp_path, texts)
    real = _compiled_base()
    for wrong in (
        CompiledContext("base", real.lines, "0" * 64),  # another text of the same length
        CompiledContext("base", real.lines - 1, real.sha256),
    ):
        forest = TemplateForest(problems, [wrong])
        assert all(wrong.directive not in r.text_of.lines for r in forest.routes.values())
    index = f"s2n_arm {real.lines} {real.sha256};s2n_x86 3 {'a' * 64}"
    assert CompiledContext.parse_index(index) == (
        CompiledContext("s2n_arm", real.lines, real.sha256),
        CompiledContext("s2n_x86", 3, "a" * 64),
    )
    assert CompiledContext.parse_index("") == ()
    with pytest.raises(VerifierUnavailable, match="compiled contexts is unreadable"):
        CompiledContext.parse_index("s2n_arm lots")
