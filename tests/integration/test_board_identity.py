"""Checker identities on real images: the committed board takes a new entry on this machine, a board moves to
another recipe, a package-list mismatch is refused in one line, and an audit finds a tampered proof.

Every verdict comes from real HOL Light in a container. Images of other recipes and other package lists are
built here under their own tag namespaces (``pbtest-*``), so that they never replace the image main builds.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import docker
import pytest

from provebench import containers
from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.boards.board import Board
from provebench.boards.maintenance import audit, republish
from provebench.boards.pages import render_board
from provebench.containers.engine import DockerEngine
from provebench.core.errors import UserError
from provebench.core.model import Problem, Status
from provebench.core.settings import CheckerBuild, Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run

pytestmark = [pytest.mark.docker, pytest.mark.slow]

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "leaderboards" / "hol-light-core"
MARKER_PACKAGE = (
    "set -eu; mkdir -p /tmp/m/DEBIAN; "
    "printf 'Package: provebench-test-marker\\nVersion: 1\\nArchitecture: all\\nMaintainer: provebench tests "
    "<ci@example.org>\\nDescription: one package more than the pinned image\\n' > /tmp/m/DEBIAN/control; "
    "dpkg-deb --build /tmp/m /tmp/m.deb >/dev/null; dpkg -i /tmp/m.deb >/dev/null; rm -rf /tmp/m /tmp/m.deb"
)


def _remove_namespace(namespace: str) -> None:
    client = docker.from_env()
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{namespace}/"):
                client.images.remove(tag, force=True)


def test_the_committed_pins_are_the_images_main_builds_here(settings: Settings) -> None:
    # Stronger than the unit test's format check: the package list and HOL Light version the board pins
    # are those of the image `make test` built from main's recipe on this machine.
    engine = DockerEngine(settings)
    for pin in Board(COMMITTED).config().checkers:  # type: ignore[union-attr]
        name, _, tail = pin.recipe.partition(":")
        built = engine.find_image(containers.recipe(name), tail.partition("-")[2] or None)
        assert built is not None, f"{pin.recipe}: not built here (make test builds it)"
        assert (built.recipe, built.packages, built.version, built.system) == (
            pin.recipe,
            pin.packages,
            pin.version,
            pin.system,
        ), "the committed board's pin is not main's image: republish it"


@pytest.fixture(scope="module")
def fresh_bundle(tmp_path_factory: pytest.TempPathFactory, settings: Settings, shared: Factory) -> Path:
    """What a maintainer makes on a new machine: the baseline on hol-light-core with main's image, submitted."""
    root = tmp_path_factory.mktemp("fresh")
    plan = plan_run(build_config({"suite": "hol-light-core", "n": 1}, {}, "test"), settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(root / "run", plan.suite.name, prover.name)
    summary = execute(plan, rundir, prover, settings, RunHooks(), shared)
    assert summary.complete and summary.solved > 0
    out = root / "entry.tar.gz"
    bundle.pack(rundir, out, bundle.Submitter(name="Fresh clone baseline", contact="ci@example.org", open_data="full"))
    return out


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The committed board pins bytecode checkers: these tests check on them (the session's are native)."""
    return settings.model_copy(update={"checker_build": CheckerBuild.BYTECODE})


@pytest.fixture(scope="module")
def shared(shared_bytecode_verifier_factory: Factory) -> Factory:
    """The session's warm bytecode checker of main's image."""
    return shared_bytecode_verifier_factory


def _copy_of_committed(tmp_path: Path) -> Path:
    board = tmp_path / "hol-light-core"
    shutil.copytree(COMMITTED, board)
    return board


def test_the_committed_board_takes_a_new_entry_on_this_machine(
    fresh_bundle: Path, tmp_path: Path, settings: Settings, shared: Factory
) -> None:
    board = _copy_of_committed(tmp_path)
    pins = Board(board).config().checkers  # type: ignore[union-attr]
    cached = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    entry = add_entry(fresh_bundle, board, cached, make_verifier=shared)
    r = entry.reverification
    assert r.checked == r.reproduced and r.claimed_pass == entry.stats.solved  # n = 1
    assert [c.recipe for c in r.on] == [p.recipe for p in pins] and r.on[0].same_checker(pins[0])
    assert sorted(e.id for e in Board(board).ranked()) == ["baseline-tactic-portfolio", "fresh-clone-baseline"]
    assert "| Fresh clone baseline |" in render_board(Board(board))[1]


@pytest.fixture(scope="module")
def other_packages(settings: Settings) -> Iterator[Settings]:
    """Main's recipe built on a base image with one package more: the same recipe, another package list."""
    namespace = "pbtest-packages"
    engine = DockerEngine(settings)
    base = engine.ensure_base_image(lambda _line: None)
    marked = f"{namespace}/base:marker"
    dockerfile = f"FROM {base}\nRUN {json.dumps(['sh', '-c', MARKER_PACKAGE])}\n"
    engine.client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=marked, rm=True, network_mode="none")
    changed = settings.model_copy(update={"image_namespace": namespace, "base_image": marked})
    DockerEngine(changed).build_image(containers.recipe("hol-light"), lambda _line: None)
    yield changed
    _remove_namespace(namespace)


def test_a_package_list_mismatch_is_refused_in_one_line(
    fresh_bundle: Path, tmp_path: Path, other_packages: Settings
) -> None:
    engine = DockerEngine(other_packages)
    built = engine.find_image(containers.recipe("hol-light"))
    main_pin = Board(COMMITTED).config().checkers[0]  # type: ignore[union-attr]
    assert built is not None and built.recipe == main_pin.recipe and built.packages != main_pin.packages
    board = _copy_of_committed(tmp_path)
    before = sorted(p.name for p in board.rglob("*"))
    with pytest.raises(UserError) as exc:
        add_entry(fresh_bundle, board, other_packages.model_copy(update={"cache_dir": tmp_path / "cache"}))
    message = str(exc.value)
    assert message.startswith("this machine's hol-light checker differs from the board's pin in its package list (")
    assert "recipe (" not in message and "version (" not in message and "\n" not in message
    assert "snapshot the board was pinned with" in message
    assert sorted(p.name for p in board.rglob("*")) == before


@pytest.fixture(scope="module")
def other_recipe(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A test copy of main's recipes with one harness comment changed: another recipe, the same packages."""
    namespace = "pbtest-recipe"
    root = tmp_path_factory.mktemp("recipes")
    for d in ("containers", "harness"):
        shutil.copytree(containers.resource_root() / d, root / d)
    server = root / "harness" / "hol_light" / "server.ml"
    server.write_text(server.read_text() + "(* a comment that changes the recipe, not the checker *)\n")
    changed = settings.model_copy(update={"image_namespace": namespace, "recipe_root": root})
    DockerEngine(changed).build_image(containers.recipe("hol-light"), lambda _line: None)
    yield changed
    _remove_namespace(namespace)


def test_republish_moves_the_committed_board_to_another_recipe(
    fresh_bundle: Path, tmp_path: Path, other_recipe: Settings, shared: Factory, settings: Settings
) -> None:
    board = _copy_of_committed(tmp_path)
    old_pin = Board(board).config().checkers[0]  # type: ignore[union-attr]
    moved = other_recipe.model_copy(update={"cache_dir": tmp_path / "cache"})
    report = republish(board, moved)  # a real checker of the other recipe
    (pin,) = report.pins
    assert pin.recipe != old_pin.recipe and pin.packages == old_pin.packages and pin.version == old_pin.version
    assert Board(board).config().checkers == [pin]  # type: ignore[union-attr]
    (entry,) = Board(board).ranked()
    r = entry.reverification
    assert r.on == [pin] and r.checked == r.reproduced and entry.earlier_reverifications[-1].on[0] == old_pin
    assert r.claimed_pass == sum(a.verdict.status is Status.PASS for a in Board(board).published_attempts(entry))
    assert r.others_sampled == round(r.sample_fraction * r.others) > 0
    assert [o.entry for o in report.outcomes if o.checked] == ["baseline-tactic-portfolio"] and not report.resubmit
    # A run on main's checker no longer matches the republished board: refused before anything is checked.
    with pytest.raises(UserError, match=r"this machine's hol-light checker differs from the board's pin in its recipe"):
        add_entry(fresh_bundle, board, settings.model_copy(update={"cache_dir": tmp_path / "c2"}), make_verifier=shared)


def test_verify_reports_one_tampered_published_proof(tmp_path: Path, settings: Settings, shared: Factory) -> None:
    board = _copy_of_committed(tmp_path)
    attempts = board / "entries" / "baseline-tactic-portfolio" / "attempts.jsonl"
    rows = [json.loads(line) for line in attempts.read_text().splitlines()]
    victim = next(r for r in rows if r["status"] == "PASS" and r["proof"] != "ALL_TAC")
    victim["proof"] = "ALL_TAC"  # a tactic that proves nothing: the published PASS no longer holds
    attempts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    passes = sum(r["status"] == "PASS" for r in rows)
    report = audit(board, settings.model_copy(update={"cache_dir": tmp_path / "cache"}), make_verifier=shared)
    assert report.pin_note == "" and not report.all_reproduced
    (outcome,) = report.outcomes
    assert (outcome.checked, outcome.reproduced) == (passes, passes - 1)
    (line,) = outcome.mismatches
    assert line.startswith(f"{victim['problem']} sample {victim['sample']} round 0: claimed PASS, got FAIL")
