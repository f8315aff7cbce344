"""Messages of failed image builds (the build stream as this machine's Docker engine sent it)."""

from __future__ import annotations

from provebench import containers
from provebench.containers import build_failure
from provebench.settings import Settings

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
    now = containers.image_tag(r, "ac31a43db309aaaa")

    def info(tag: str) -> containers.ImageInfo:
        return containers.ImageInfo(
            name=r.name, tag=tag, digest="sha256:0", system="hol-light", version="v", size_bytes=0
        )

    assert containers.is_current(info(now))
    assert containers.is_current(info(containers.image_tag(r, "0123456789ab")))  # any s2n-bignum commit
    assert not containers.is_current(info("provebench/hol-light-s2n:000000000000-ac31a43db309"))
