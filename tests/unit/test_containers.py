"""Messages of failed image builds (the build stream as this machine's Docker engine sent it); recipe identity;
what goes into a build context."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provebench import containers
from provebench.containers.build_context import assemble_build_context
from provebench.containers.engine import DockerEngine, build_failure
from provebench.containers.sources import SourceTree
from provebench.core.errors import UserError
from provebench.core.settings import Settings
from provebench.systems.hol_light.template_text import compiled_context_text

APT_STEP_ERROR = (
    'The command \'/bin/sh -c set -eu;     test -n "${HOL_LIGHT_VERSION}";     apt-get $opts update;'
    "     apt-get clean; rm -rf /var/lib/apt/lists/*' returned a non-zero code: 100"
)
EXPIRED_OUTPUT = [
    "Step 5/14 : RUN set -eu;     apt-get $opts update",
    " ---> Running in 54e21159fdf6",
    "Get:1 http://deb.debian.org/debian sid InRelease [193 kB]",
    "Reading package lists...",
    "\x1b[91mE: Release file for http://deb.debian.org/debian/dists/sid/InRelease is expired "
    "(invalid since 20d 15h 5min 6s). Updates for this repository will not be applied.",
    "\x1b[0m",
    "Removing intermediate container 54e21159fdf6",
]


def test_an_expired_mirror_names_the_setting_that_accepts_it() -> None:
    off = Settings(apt_ignore_valid_until=False)  # explicit: the Makefile turns it on
    msg = build_failure("provebench/hol-light:abc", APT_STEP_ERROR, EXPIRED_OUTPUT, off)
    assert msg.startswith("building provebench/hol-light:abc failed: E: Release file for http://deb.debian.org")
    assert "(exit 100)" in msg and "set PROVEBENCH_APT_IGNORE_VALID_UNTIL=1" in msg
    assert "rm -rf" not in msg and "\x1b" not in msg and "\n" not in msg


def test_the_hint_is_left_out_when_the_setting_is_already_on() -> None:
    msg = build_failure("t", APT_STEP_ERROR, EXPIRED_OUTPUT, Settings(apt_ignore_valid_until=True))
    assert "E: Release file" in msg and "PROVEBENCH_APT_IGNORE_VALID_UNTIL" not in msg


def test_without_error_lines_the_engines_error_is_kept_on_one_line() -> None:
    msg = build_failure("t", "COPY failed:\n  file not found", ["Step 3/9 : COPY x /x"], Settings())
    assert msg == "building t failed: COPY failed: file not found"


def test_an_image_is_current_when_its_recipe_builds_that_tag_now() -> None:
    r = containers.recipe("hol-light-s2n")
    engine = DockerEngine(Settings())
    now = containers.recipe_id(r, "ac31a43db309aaaa")
    assert engine.tag_for(r, "ac31a43db309aaaa") == f"provebench/{now}"

    def info(recipe: str) -> containers.ImageInfo:
        return containers.ImageInfo(
            name=r.name, tag="t", digest="sha256:0", system="hol-light", version="v", size_bytes=0, recipe=recipe
        )

    assert engine.is_current(info(now))
    assert engine.is_current(info(containers.recipe_id(r, "0123456789ab")))  # any s2n-bignum commit
    assert not engine.is_current(info("hol-light-s2n:000000000000-ac31a43db309"))
    assert not engine.is_current(info(""))  # built before images recorded their recipe


def test_the_recipe_hash_follows_the_recipe_sources_and_the_namespace_only_the_tag(tmp_path: Path) -> None:
    r = containers.recipe("hol-light")
    root = containers.resource_root()
    for d in ("containers", "harness"):
        shutil.copytree(root / d, tmp_path / d)
    assert containers.recipe_id(r, root=tmp_path) == containers.recipe_id(r)
    engine = DockerEngine(Settings(recipe_root=tmp_path, image_namespace="pbtest"))
    assert engine.tag_for(r) == "pbtest/" + containers.recipe_id(r)
    server = tmp_path / "harness" / "hol_light" / "server.ml"
    server.write_text(server.read_text() + "(* a comment *)\n")
    assert containers.recipe_id(r, root=tmp_path) != containers.recipe_id(r)
    assert engine.tag_for(r) == "pbtest/" + containers.recipe_id(r, root=tmp_path)
    # The check server is in every HOL Light image, through their bases: two levels down for native s2n-bignum.
    for name in ("hol-light-native", "hol-light-s2n", "hol-light-s2n-native"):
        on_top, commit = containers.recipe(name), "ac31a43db309"
        assert containers.recipe_id(on_top, commit, root=tmp_path) != containers.recipe_id(on_top, commit)


def test_the_package_list_hash_ignores_order_and_blank_lines_but_not_a_version() -> None:
    a = containers.package_list_hash("libc6 2.41-1\nhol-light 1:3.1.0\n")
    assert a == containers.package_list_hash("\nhol-light 1:3.1.0\nlibc6 2.41-1")
    assert a != containers.package_list_hash("libc6 2.41-2\nhol-light 1:3.1.0\n")
    assert a.startswith("sha256:") and len(a) == 71


def test_a_missing_source_image_names_the_commits_built_and_a_stale_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The image of a commit built by an earlier provebench is not "another commit": it is stale."""
    engine = DockerEngine.__new__(DockerEngine)  # no Docker: only what the message reads
    r = containers.recipe("hol-light-s2n-native")

    def image(commit: str) -> containers.ImageInfo:
        return containers.ImageInfo(r.name, "t", "d", "hol-light", "v", 1, source=f"s2n-bignum@{commit}")

    monkeypatch.setattr(engine, "find_image", lambda _r, _rev: None)
    monkeypatch.setattr(engine, "list_images", lambda: [image("9912d17e2515aa"), image("ac31a43db309bb")])
    with pytest.raises(UserError) as err:
        engine.ensure_image(r, lambda _line: None, "9912d17e2515aa")
    said = str(err.value)
    assert "built for other commits: ac31a43db309 (--image-revision uses one)" in said
    assert "the one for 9912d17e2515 is of an earlier provebench" in said
    assert "images build hol-light-s2n-native --s2n-bignum URL@9912d17e2515aa" in said


def test_a_native_image_compiles_its_contexts_as_the_hol_light_checker_sends_them(tmp_path: Path) -> None:
    # containers sits below systems: the text is HOL Light's, handed in, and a build without it is refused.
    source = tmp_path / "s2n-bignum"
    for arch in ("arm", "x86"):
        (source / arch / "proofs").mkdir(parents=True)
        (source / arch / "proofs" / "base.ml").write_text("let LEMMA = prove(`!n. n + 0 = n`, ARITH_TAC);;\n")
    tree = SourceTree("s2n-bignum", source, "0" * 40)
    r = containers.recipe("hol-light-s2n-native")
    root = containers.resource_root()
    assemble_build_context(r, root, tree, tmp_path / "ctx", lambda _line: None, compiled_context_text)
    written = (tmp_path / "ctx" / "contexts" / "s2n_arm.ml").read_text()
    assert written == compiled_context_text(source, "arm/proofs/base.ml")
    assert "CHEAT_TAC" in written and "ARITH_TAC" not in written  # proofs admitted, as in imported templates
    with pytest.raises(ValueError, match="needs their text"):
        assemble_build_context(r, root, tree, tmp_path / "bare", lambda _line: None)
