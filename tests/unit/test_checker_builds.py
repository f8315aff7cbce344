"""Choosing a HOL Light checker's build: the suite's ``checker``, overridden by ``--checker`` (no Docker here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench import containers
from provebench.cli.args import build_parser
from provebench.cli.command_settings import settings_from
from provebench.core.errors import UserError
from provebench.core.settings import CheckerBuild
from provebench.suites.load import load_suite


def test_each_hol_light_image_has_both_builds_with_their_own_toplevel() -> None:
    assert containers.image_for_build("hol-light", "native") == "hol-light-native"
    assert containers.image_for_build("hol-light-native", "bytecode") == "hol-light"
    assert containers.image_for_build("hol-light-s2n@ac31a43", "native") == "hol-light-s2n-native@ac31a43"
    assert containers.image_for_build("hol-light-s2n-native@ac31a43", "bytecode") == "hol-light-s2n@ac31a43"
    assert containers.image_for_build("hol-light", None) == "hol-light"
    assert containers.image_for_build("lean4-mathlib", "native") == "lean4-mathlib"  # Lean has one build
    assert [containers.build_of(n) for n in ("hol-light-s2n-native@ac31a43", "hol-light", "lean4-mathlib")] == [
        "native",
        "bytecode",
        None,
    ]
    for family in containers.CHECKER_BUILDS:
        bytecode, native = (containers.recipe(family[b]) for b in ("bytecode", "native"))
        assert bytecode.toplevel == containers.BYTECODE_TOPLEVEL and not bytecode.executable_tmp
        assert native.toplevel == containers.NATIVE_TOPLEVEL and native.executable_tmp
        assert (native.source, native.dockerfile if native.source else None) == (
            bytecode.source,
            bytecode.dockerfile if bytecode.source else None,
        )
    # A native image is its own recipe on top of its bytecode one: another identity, same HOL Light pin.
    assert containers.recipe("hol-light-native").base == "hol-light"
    assert containers.recipe("hol-light-s2n-native").base == "hol-light-native"
    assert containers.recipe_id(containers.recipe("hol-light-native")) != containers.recipe_id(
        containers.recipe("hol-light")
    )


def _suite(tmp_path: Path, extra: str) -> Path:
    tmp_path.mkdir()
    (tmp_path / "suite.yaml").write_text(f"name: t\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n{extra}")
    (tmp_path / "problems.yaml").write_text("- {id: a, statement: T}\n")
    return tmp_path


def test_a_suite_chooses_its_build(tmp_path: Path) -> None:
    plain = load_suite(_suite(tmp_path / "plain", ""))
    native = load_suite(_suite(tmp_path / "native", "checker: native\n"))
    bytecode = load_suite(_suite(tmp_path / "bytecode", "checker: bytecode\n"))
    images = [s.problems[0].checker_image for s in (plain, native, bytecode)]
    assert images == ["hol-light", "hol-light-native", "hol-light"]
    assert native.content_hash != plain.content_hash  # another checker: another suite to pin
    with pytest.raises(UserError, match=r"suite.yaml: field 'checker'"):
        load_suite(_suite(tmp_path / "bad", "checker: jit\n"))


def test_checker_on_the_command_line_overrides_the_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVEBENCH_CHECKER_BUILD")  # the tests' own default (conftest): not a user's
    parser = build_parser()
    for argv, build in (
        (["check", "--checker", "native", "p.ml"], CheckerBuild.NATIVE),
        (["--checker", "bytecode", "run", "--suite", "s"], CheckerBuild.BYTECODE),
        (["suites", "selftest", "s", "--checker", "native"], CheckerBuild.NATIVE),
        (["serve", "--checker", "native"], CheckerBuild.NATIVE),
        (["check", "p.ml"], None),
    ):
        assert settings_from(parser.parse_args(argv)).checker_build is build, argv
    with pytest.raises(SystemExit):
        parser.parse_args(["check", "--checker", "jit", "p.ml"])


def test_the_hosts_toplevel_is_bytecode_only() -> None:
    from provebench.core.settings import Backend, Settings
    from provebench.systems.hol_light.verifier import make_hol_light_verifier

    local = Settings(backend=Backend.LOCAL, checker_build=CheckerBuild.NATIVE)
    with pytest.raises(UserError, match="--backend local runs the host's bytecode toplevel only"):
        make_hol_light_verifier(local)
    with pytest.raises(UserError, match="--backend local runs the host's bytecode toplevel only"):
        make_hol_light_verifier(Settings(backend=Backend.LOCAL), image="hol-light-native")
