"""A suite is a closed folder: every file it uses lies inside it (after symlinks) and is part of its hash.

And its numbers are bounded: no infinite or absurd timeout or memory becomes a check's limit.
Real files in a temporary folder; the template text is what a checker would be sent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.core.inputs import MAX_TIMEOUT_S
from provebench.suites.load import load_suite
from provebench.systems.hol_light.source import inline
from provebench.systems.hol_light.template_text import TemplateText

MANIFEST = "name: t\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"
SECRET = "let host_secret = 42;;\n"


def _suite(folder: Path, manifest: str = MANIFEST, problems: str = "- {id: a, statement: T}\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(manifest)
    (folder / "problems.yaml").write_text(problems)
    return folder


def _one_line_error(folder: Path) -> str:
    with pytest.raises(UserError) as info:
        load_suite(folder)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    """A host file outside every suite folder."""
    path = tmp_path / "outside" / "secret.yaml"
    path.parent.mkdir()
    path.write_text("- {id: stolen, statement: T}\n")
    (path.parent / "secret.ml").write_text(SECRET)
    return path


@pytest.mark.parametrize("where", ["absolute", "climbing"])
def test_a_problems_file_outside_the_folder_is_refused(tmp_path: Path, secret: Path, where: str) -> None:
    named = str(secret) if where == "absolute" else "../outside/secret.yaml"
    folder = _suite(tmp_path / "s", MANIFEST + f"problems_file: {named}\n")
    assert "outside the suite folder" in _one_line_error(folder)


def test_a_problems_file_that_is_a_symlink_to_outside_is_refused(tmp_path: Path, secret: Path) -> None:
    folder = _suite(tmp_path / "s", MANIFEST + "problems_file: p.yaml\n")
    (folder / "p.yaml").symlink_to(secret)
    assert "outside the suite folder" in _one_line_error(folder)


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "s", MANIFEST + "problems_file: p.yaml\n")
    (folder / "p.yaml").symlink_to("problems.yaml")
    assert [p.id for p in load_suite(folder).problems] == ["a"]


def _template_suite(folder: Path, template: str) -> Path:
    _suite(
        folder,
        MANIFEST + "template_includes: true\n",
        "- {id: a, statement: T, template: templates/main.ml, template_line: 3}\n",
    )
    (folder / "templates").mkdir()
    (folder / "templates" / "main.ml").write_text(template + "let x = 1;;\nlet a = prove(`T`, CHEAT_TAC);;\n")
    return folder


@pytest.mark.parametrize("include", ["{secret}", "../../outside/secret.ml", "lib/../../../outside/secret.ml"])
@pytest.mark.parametrize("command", ["needs", "loadt", "loads"])
def test_a_template_include_outside_the_templates_folder_is_refused(
    tmp_path: Path, secret: Path, include: str, command: str
) -> None:
    path = include.format(secret=secret.with_suffix(".ml"))
    suite = load_suite(_template_suite(tmp_path / "s", f'{command} "{path}";;\n'))
    with pytest.raises(UserError) as info:
        TemplateText.of(suite.problems[0])
    message = str(info.value)
    assert "outside" in message and "templates/main.ml: line 1" in message and "\n" not in message


def test_a_template_include_through_a_symlink_to_outside_is_refused(tmp_path: Path, secret: Path) -> None:
    folder = _template_suite(tmp_path / "s", 'needs "lib.ml";;\n')
    (folder / "templates" / "lib.ml").symlink_to(secret.with_suffix(".ml"))
    assert "outside the suite folder" in _one_line_error(folder)  # refused at load: the hash walk sees it
    os.unlink(folder / "templates" / "lib.ml")
    (folder / "templates" / "sub").symlink_to(secret.parent, target_is_directory=True)
    (folder / "templates" / "main.ml").write_text('needs "sub/secret.ml";;\nlet a = prove(`T`, CHEAT_TAC);;\n')
    assert "outside the suite folder" in _one_line_error(folder)


def test_inlining_refuses_an_include_through_a_symlink_out_of_its_folder(tmp_path: Path, secret: Path) -> None:
    """The s2n-bignum importer inlines a checkout that no suite load has walked: each include is checked itself."""
    root = tmp_path / "checkout"
    (root / "arm").mkdir(parents=True)
    (root / "arm" / "lib.ml").symlink_to(secret.with_suffix(".ml"))
    (root / "arm" / "f.ml").write_text('needs "arm/lib.ml";;\nlet x = 1;;\n')
    with pytest.raises(UserError, match=r'arm/f.ml: line 1: needs "arm/lib.ml" is outside .*through a symlink'):
        inline(root, "arm/f.ml")
    (root / "arm" / "lib.ml").unlink()
    (root / "arm" / "lib.ml").write_text("let inner = 1;;\n")
    assert "let inner = 1;;" in inline(root, "arm/f.ml").lines


def test_includes_inside_are_expanded_and_hol_light_s_own_library_is_left_to_the_checker(tmp_path: Path) -> None:
    folder = _template_suite(tmp_path / "s", 'needs "Library/words.ml";;\nneeds "lib/inner.ml";;\n')
    (folder / "templates" / "lib").mkdir()
    (folder / "templates" / "lib" / "inner.ml").write_text("let inner = 1;;\n")
    text = TemplateText.of(load_suite(folder).problems[0]).text()
    assert 'needs "Library/words.ml";;' in text and "let inner = 1;;" in text


def test_every_included_file_is_part_of_the_hash(tmp_path: Path) -> None:
    folder = _template_suite(tmp_path / "s", 'needs "lib.ml";;\n')
    (folder / "templates" / "lib.ml").write_text("let inner = 1;;\n")
    before = load_suite(folder).content_hash
    (folder / "templates" / "lib.ml").write_text("let inner = 2;;\n")
    assert load_suite(folder).content_hash != before


def test_a_template_symlink_to_outside_is_refused(tmp_path: Path, secret: Path) -> None:
    folder = _suite(tmp_path / "s", problems="- {id: a, statement: T, template: t.ml, template_line: 1}\n")
    (folder / "t.ml").symlink_to(secret.with_suffix(".ml"))
    assert "outside the suite folder" in _one_line_error(folder)


def test_a_template_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "s", problems="- {id: a, statement: T, template: t.ml, template_line: 1}\n")
    os.mkfifo(folder / "t.ml")  # reading it would wait for a writer forever
    assert "not a regular file" in _one_line_error(folder)


@pytest.mark.parametrize(
    ("manifest", "problem", "field"),
    [
        ("default_timeout_s: .inf\n", "", "default_timeout_s"),
        ("default_timeout_s: .nan\n", "", "default_timeout_s"),
        ("", ", timeout_s: 1e400", "timeout_s"),
        ("", f", timeout_s: {MAX_TIMEOUT_S * 2}", "timeout_s"),
        ("timeout_scale: .inf\n", "", "timeout_scale"),
        ("timeout_scale: 1.0e+300\n", ", timeout_s: 10", "timeout_scale"),
        ("timeout_scale: 1000\n", ", timeout_s: 3600", "timeout_s"),  # each fine, their product a month
        ("timeout_scale: 1.0e-300\n", ", timeout_s: 1.0e-100", "timeout_s"),  # a product that is zero
        ("memory_mb: 1.0e+30\n", "", "memory_mb"),
        ("memory_mb: 99999999999\n", "", "memory_mb"),
        ("context_memory_mb: 99999999999\n", "", "context_memory_mb"),
    ],
)
def test_absurd_numbers_are_one_line_errors(tmp_path: Path, manifest: str, problem: str, field: str) -> None:
    folder = _suite(tmp_path / "s", MANIFEST + manifest, "- {id: a, statement: T" + problem + "}\n")
    assert field in _one_line_error(folder)


def test_an_infinite_timeout_in_jsonl_is_refused(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "s", MANIFEST + "problems_file: p.jsonl\n")
    (folder / "p.jsonl").write_text('{"id": "a", "statement": "T", "timeout_s": 1e400}\n')
    assert "timeout_s" in _one_line_error(folder)


def test_the_largest_allowed_numbers_still_load(tmp_path: Path) -> None:
    manifest = MANIFEST + "timeout_scale: 4\nmemory_mb: 1048576\n"
    folder = _suite(tmp_path / "s", manifest, f"- {{id: a, statement: T, timeout_s: {MAX_TIMEOUT_S / 4}}}\n")
    (problem,) = load_suite(folder).problems
    assert problem.timeout_s == MAX_TIMEOUT_S and problem.memory_mb == 1 << 20
