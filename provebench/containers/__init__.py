"""Everything provebench knows about Docker: images, base images, sandboxed checker containers.

``recipes`` holds images as plain data: the pins, what each image is built from (its tag carries
a hash of its build context), a built image, a checker container's limits. ``engine`` talks to
Docker: it builds images (on a ``debootstrap`` Debian base when no registry is reachable) and runs
the sandboxed checker containers. Nothing else in provebench imports ``docker``, and this package
does not import the engine: a suite, a recipe or a pin costs no Docker SDK (its import is a
third of a second), and what talks to Docker imports ``provebench.containers.engine``.
"""

from provebench.containers.recipes import (
    BYTECODE_TOPLEVEL,
    CHECKER_BUILDS,
    DEBOOTSTRAP_BASE_TAG,
    DEFAULT_SOURCES,
    HOL_LIGHT_DIR,
    HOL_LIGHT_PIN,
    LABEL_PREFIX,
    LEAN_REPL_PIN,
    LEAN_TOOLCHAIN_PIN,
    MATHLIB_PIN,
    NATIVE_TOPLEVEL,
    RECIPES,
    ImageInfo,
    ImageRecipe,
    Progress,
    SandboxLimits,
    build_of,
    image_for_build,
    package_list_hash,
    parse_image_ref,
    recipe,
    recipe_hash,
    recipe_id,
    resource_root,
)

__all__ = [
    "BYTECODE_TOPLEVEL",
    "CHECKER_BUILDS",
    "DEBOOTSTRAP_BASE_TAG",
    "DEFAULT_SOURCES",
    "HOL_LIGHT_DIR",
    "HOL_LIGHT_PIN",
    "LABEL_PREFIX",
    "LEAN_REPL_PIN",
    "LEAN_TOOLCHAIN_PIN",
    "MATHLIB_PIN",
    "NATIVE_TOPLEVEL",
    "RECIPES",
    "ImageInfo",
    "ImageRecipe",
    "Progress",
    "SandboxLimits",
    "build_of",
    "image_for_build",
    "package_list_hash",
    "parse_image_ref",
    "recipe",
    "recipe_hash",
    "recipe_id",
    "resource_root",
]
