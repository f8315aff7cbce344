"""A suite is checked in the image built from its own s2n-bignum commit, unless the user says otherwise."""

from __future__ import annotations

import pytest

from provebench.core.errors import UserError
from provebench.core.settings import CheckerBuild, Settings
from provebench.systems.hol_light.verifier import make_hol_light_verifier

pytestmark = pytest.mark.docker

NOT_BUILT = "0" * 40


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The bytecode images' names are the ones these tests expect (the session's checkers are native)."""
    return settings.model_copy(update={"checker_build": CheckerBuild.BYTECODE})


def test_a_suite_of_a_commit_with_no_image_is_refused_with_how_to_build_it(settings: Settings) -> None:
    with pytest.raises(UserError) as err:
        make_hol_light_verifier(settings, image=f"hol-light-s2n@{NOT_BUILT}")
    message = str(err.value)
    assert "\n" not in message
    assert "no hol-light-s2n image for s2n-bignum 000000000000" in message
    assert f"--s2n-bignum URL@{NOT_BUILT}" in message and "--s2n-bignum-src" in message


def test_another_commits_image_is_used_only_when_asked_and_only_if_built(settings: Settings) -> None:
    forced = settings.model_copy(update={"image_revision": "1111111"})
    with pytest.raises(UserError, match="--image-revision 1111111: no current image of hol-light-s2n"):
        make_hol_light_verifier(forced, image=f"hol-light-s2n@{NOT_BUILT}")
    # The suite's own commit needs no override: the override is ignored when it names that commit.
    same = settings.model_copy(update={"image_revision": NOT_BUILT[:9]})
    with pytest.raises(UserError, match="no hol-light-s2n image for s2n-bignum 000000000000"):
        make_hol_light_verifier(same, image=f"hol-light-s2n@{NOT_BUILT}")
