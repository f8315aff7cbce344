"""Importing a file that is not in a package (a script, an MkDocs hook) under a name of the test's choosing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_by_path(path: Path, name: str) -> ModuleType:
    """The module of ``path``, executed once and registered as ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
