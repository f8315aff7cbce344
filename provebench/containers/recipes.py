"""Checker images as plain data, with no Docker calls.

The pins, the recipes and the hashes that name a build, a built image (``ImageInfo``), a checker
container's limits (``SandboxLimits``) and the package-list hash. An image's tag carries a hash of
its build context (its Dockerfile, the in-container code from ``harness/``, its build arguments),
so a changed harness or pin builds a new image on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, System
from provebench.core.names import DEFAULT_S2N_BIGNUM

Progress = Callable[[str], None]

LABEL_PREFIX = "org.provebench"
DEBOOTSTRAP_BASE_TAG = "provebench/debian-sid:debootstrap"

# The one place the HOL Light version is pinned (Debian sid's package).
HOL_LIGHT_PIN = "1:3.1.0+git20260619"

# The Lean pins: CombiBench's toolchain, Mathlib tag and the REPL's matching tag.
LEAN_TOOLCHAIN_PIN = "leanprover/lean4:v4.24.0"
MATHLIB_PIN = "v4.24.0"
LEAN_REPL_PIN = "v4.24.0"
# The trusted Lean judge, each at a commit: Lean FRO's comparator (its pre-v25 branch, "v4.24.0 and older"),
# lean4export at the toolchain's tag (comparator's own pin), and landrun (the sandbox comparator calls).
COMPARATOR_PIN = "97ef939c9fe3f8abf93e4adb654517476da7a66f"
LEAN4EXPORT_PIN = "f7f95b22c1bff79cfbec7f32c13ced73a1b4fdcd"  # tag v4.24.0
LANDRUN_PIN = "1a5085c31a4e15b371e632a67b5c93a180901e0a"  # tag v0.1.15

# Where outside sources come from by default. s2n-bignum-bench (August 2026) pins
# its author's fork at 5e0fc782, which is not always reachable; upstream's head of
# that month loads cleanly with the pinned HOL Light, and imported suites record
# whichever commit they come from.
DEFAULT_SOURCES = {"s2n-bignum": DEFAULT_S2N_BIGNUM}


@dataclass(frozen=True)
class ImageRecipe:
    """How to build one checker image."""

    name: str
    system: System
    dockerfile: str  # relative to the resource root
    context_dirs: tuple[str, ...]  # copied into the build context at the same relative paths
    build_args: dict[str, str] = field(default_factory=dict)
    version_arg: str = ""  # the build arg that pins the proof system's version
    base: str | None = None  # a recipe whose image this one builds on (passed as HOL_LIGHT_IMAGE)
    source: str | None = None  # an outside source tree the build needs, at a revision (e.g. s2n-bignum)
    toplevel: tuple[str, ...] = ()  # how its checker's toplevel starts (HOL Light), run in HOL_LIGHT_DIR
    # Whether its checker maps code it made into memory from /tmp (the native toplevel compiles each phrase to a
    # shared object and loads it), so that /tmp may not be noexec.
    executable_tmp: bool = False
    # Trusted texts compiled at build (native images): name -> a file of the outside source, whose text with
    # its includes expanded is what templates starting with it load; the checker loads the compiled form.
    contexts: tuple[tuple[str, str], ...] = ()


HOL_LIGHT_DIR = "/usr/share/hol-light"
# Debian's bytecode toplevel, loading HOL Light core from source (the package's /usr/bin/hol-light is broken).
BYTECODE_TOPLEVEL = (f"{HOL_LIGHT_DIR}/ocaml-hol", "-init", "hol.ml")
# The native toplevel with HOL Light core linked in (harness/hol_light_native/).
NATIVE_TOPLEVEL = (
    "/opt/provebench/native/hol-native",
    *("-I", "/opt/provebench/native", "-I", "+unix", "-I", "+compiler-libs"),
    *("-w", "-58"),  # a phrase using an earlier one's values: "no cmx file for TOP<n>", which is moot here
    *("-init", "/opt/provebench/native/init.ml"),
)


_HOL_LIGHT = ImageRecipe(
    name="hol-light",
    system=System.HOL_LIGHT,
    dockerfile="containers/hol-light/Dockerfile",
    context_dirs=("harness/hol_light",),
    build_args={"HOL_LIGHT_VERSION": HOL_LIGHT_PIN},
    version_arg="HOL_LIGHT_VERSION",
    toplevel=BYTECODE_TOPLEVEL,
)
# The native toplevel is built on the bytecode image, so both run the same HOL Light and check server.
_HOL_LIGHT_NATIVE = replace(
    _HOL_LIGHT,
    name="hol-light-native",
    dockerfile="containers/hol-light-native/Dockerfile",
    context_dirs=("harness/hol_light_native",),
    base="hol-light",
    toplevel=NATIVE_TOPLEVEL,
    executable_tmp=True,
)
_HOL_LIGHT_S2N = replace(
    _HOL_LIGHT,
    name="hol-light-s2n",
    dockerfile="containers/hol-light-s2n/Dockerfile",
    context_dirs=(),
    base="hol-light",
    source="s2n-bignum",
)
RECIPES: dict[str, ImageRecipe] = {
    r.name: r
    for r in (
        _HOL_LIGHT,
        _HOL_LIGHT_NATIVE,
        _HOL_LIGHT_S2N,
        # The same s2n-bignum layer on the native image.
        replace(
            _HOL_LIGHT_S2N,
            name="hol-light-s2n-native",
            base="hol-light-native",
            toplevel=NATIVE_TOPLEVEL,
            executable_tmp=True,
            contexts=(("s2n_arm", "arm/proofs/base.ml"), ("s2n_x86", "x86/proofs/base.ml")),
        ),
        ImageRecipe(
            name="lean4-mathlib",
            system=System.LEAN4,
            dockerfile="containers/lean4-mathlib/Dockerfile",
            context_dirs=("harness/lean",),
            build_args={
                "LEAN_TOOLCHAIN": LEAN_TOOLCHAIN_PIN,
                "MATHLIB_REV": MATHLIB_PIN,
                "REPL_REV": LEAN_REPL_PIN,
                "COMPARATOR_REV": COMPARATOR_PIN,
                "LEAN4EXPORT_REV": LEAN4EXPORT_PIN,
                "LANDRUN_REV": LANDRUN_PIN,
            },
            version_arg="LEAN_TOOLCHAIN",
        ),
    )
}


# The same checker built to run proofs as bytecode or as native code: each build's recipe.
CHECKER_BUILDS: tuple[dict[str, str], ...] = (
    {"bytecode": "hol-light", "native": "hol-light-native"},
    {"bytecode": "hol-light-s2n", "native": "hol-light-s2n-native"},
)


def image_for_build(ref: str, build: str | None) -> str:
    """The image ``ref`` (``name`` or ``name@revision``) in the given build; Lean's one build is left as it is."""
    name, at, revision = ref.partition("@")
    if build is None:
        return ref
    for family in CHECKER_BUILDS:
        if name in family.values():
            return family[build] + at + revision
    if recipe(name).system is System.HOL_LIGHT:
        raise UserError(f"checker image {name} has no {build} build")
    return ref


def build_of(ref: str) -> str | None:
    """The build (bytecode or native) of the image ``ref`` names, or None for an image with one build."""
    name = ref.partition("@")[0]
    return next((build for family in CHECKER_BUILDS for build, n in family.items() if n == name), None)


def parse_image_ref(ref: str) -> tuple[ImageRecipe, str | None]:
    """``name`` or ``name@revision`` (the revision of the recipe's outside source)."""
    name, _, revision = ref.partition("@")
    r = recipe(name)
    if r.source is not None and not revision:
        raise UserError(f"checker image {name} needs the {r.source} revision: {name}@<commit>")
    return r, revision or None


@dataclass(frozen=True)
class ImageInfo:
    """A built checker image."""

    name: str
    tag: str
    digest: str  # the image ID: a content hash of the image configuration
    system: str
    version: str  # the installed proof-system version recorded at build time
    size_bytes: int
    source: str = ""  # name@revision of the outside source it was built from, if any
    recipe: str = ""  # name:hash of the recipe it was built from (the hash its tag carries)
    packages: str = ""  # sha256 of its installed package list, recorded at build time
    contexts: str = ""  # its compiled contexts' index, "NAME LINES SHA256" each, ";"-separated (native s2n-bignum)

    def checker_info(self) -> CheckerInfo:
        """The identity of the checker this image runs, as verdicts record it."""
        return CheckerInfo(
            image=self.tag,
            digest=self.digest,
            system=System(self.system),
            version=self.version,
            recipe=self.recipe,
            packages=self.packages,
        )


@dataclass(frozen=True)
class SandboxLimits:
    """Resource and isolation settings of one checker container."""

    memory_mb: int
    pids: int
    tmpfs_mb: int = 256


# The index of a native image's compiled contexts (harness/hol_light_native/build_contexts.sh).
CONTEXTS_INDEX = "/opt/provebench/native/contexts/index"

# Lists every installed package of an image, one "name version" line each, and the package lists that its
# build stages left under /opt/provebench/build-packages/ (the s2n-bignum image's object files are built
# in a stage of their own). The host sorts and hashes the lines.
PACKAGE_LIST_SCRIPT = (
    "dpkg-query -W -f '${binary:Package} ${Version}\\n'; "
    'for f in /opt/provebench/build-packages/*; do if [ -f "$f" ]; then cat "$f"; fi; done'
)


def package_list_hash(listing: str) -> str:
    """``sha256:<hex>`` of a package listing, independent of line order and blank lines."""
    lines = sorted({ln.strip() for ln in listing.splitlines() if ln.strip()})
    return "sha256:" + hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def resource_root() -> Path:
    """The folder holding ``containers/``, ``harness/`` and ``problems/``."""
    here = Path(__file__).resolve().parent.parent  # provebench/, beside its _data/ when installed
    for candidate in (here / "_data", here.parent):
        if (candidate / "containers").is_dir() and (candidate / "harness").is_dir():
            return candidate
    raise VerifierUnavailable(f"provebench's container recipes are missing (looked under {here})")


def recipe(name: str) -> ImageRecipe:
    """The recipe called ``name``, or a one-line error listing the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"unknown checker image {name!r}; known: {', '.join(sorted(RECIPES))}") from None


def context_files(r: ImageRecipe, root: Path) -> Iterator[tuple[str, Path]]:
    """Each file of the recipe's build context: its path in the context, and where it is under ``root``."""
    yield "Dockerfile", root / r.dockerfile
    for d in r.context_dirs:
        for path in sorted((root / d).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield str(path.relative_to(root)), path


def recipe_hash(r: ImageRecipe, root: Path | None = None) -> str:
    """A hash of everything that goes into the image (recipes under ``root``, default provebench's own)."""
    h = hashlib.sha256()
    for rel, path in context_files(r, root or resource_root()):
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    for k, v in sorted(r.build_args.items()):
        h.update(f"{k}={v}\0".encode())
    return h.hexdigest()[:12]


def _built_hash(r: ImageRecipe, root: Path | None) -> str:
    """The recipe's hash with its base image's, all the way down: a change to any image under it is a new image."""
    h = recipe_hash(r, root)
    if r.base is not None:
        h = hashlib.sha256((h + _built_hash(recipe(r.base), root)).encode()).hexdigest()[:12]
    return h


def recipe_id(r: ImageRecipe, revision: str | None = None, root: Path | None = None) -> str:
    """``name:hash`` of what this recipe builds now (from this revision of its outside source): its tag's tail."""
    return f"{r.name}:{_built_hash(r, root)}" + (f"-{revision[:12]}" if revision else "")
