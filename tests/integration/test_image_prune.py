"""`provebench images prune`: stale checker images go, current ones and images in use stay (real engine)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import docker
import pytest

from provebench import containers
from provebench.cli import main as cli
from provebench.containers.engine import DockerEngine
from provebench.core.settings import Settings

pytestmark = pytest.mark.docker


@pytest.fixture()
def stale_image() -> Iterator[str]:
    """A tiny image labelled as a hol-light checker of a recipe that is no longer current."""
    client = docker.from_env()
    tag = f"provebench/hol-light:stale{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM scratch\nLABEL {containers.LABEL_PREFIX}.recipe=hol-light\n"
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    yield tag
    try:
        client.images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass


def _ours(engine: DockerEngine, tag: str) -> list[containers.ImageInfo]:
    return [i for i in engine.list_images() if i.tag == tag]


def test_an_image_in_use_is_kept_and_removed_once_free(stale_image: str, settings: Settings) -> None:
    engine = DockerEngine(settings)
    (info,) = _ours(engine, stale_image)
    assert not engine.is_current(info)
    user = engine.client.containers.create(stale_image, ["true"], network_mode="none")
    try:
        why = engine.remove_image(info)
        assert why is not None and "\n" not in why and "container" in why
        assert _ours(engine, stale_image) == [info]
    finally:
        user.remove(force=True)
    assert engine.remove_image(info) is None
    assert _ours(engine, stale_image) == []
    assert engine.remove_image(info) is None  # already gone is fine


def test_prune_lists_then_removes_stale_images_only(
    stale_image: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    current = DockerEngine(settings).tag_for(containers.recipe("hol-light"))
    real_list = DockerEngine.list_images

    def stale_and_current(self: DockerEngine) -> list[containers.ImageInfo]:
        # Only this test's image and the current one: pruning must not touch other stale images of this engine.
        return [i for i in real_list(self) if i.tag in (stale_image, current)]

    monkeypatch.setattr(DockerEngine, "list_images", stale_and_current)
    assert cli.main(["images", "prune", "--dry-run"]) == 0
    assert f"would remove {stale_image}" in capsys.readouterr().out
    engine = DockerEngine(settings)
    assert len(_ours(engine, stale_image)) == 1

    assert cli.main(["images", "prune"]) == 0
    out = capsys.readouterr().out
    assert f"removed {stale_image}" in out and "removed 1 stale image(s)" in out and "kept 0 in use" in out
    assert _ours(engine, stale_image) == []
    assert cli.main(["images", "prune"]) == 0
    assert "no stale checker images" in capsys.readouterr().out
