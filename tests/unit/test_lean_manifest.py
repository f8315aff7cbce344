"""The Lean image's manifest rewrite (harness/lean/pin_manifest.py): every package a path package that keeps
its own config file, checked on a real Mathlib v4.24.0 manifest when a REPL checkout is given.

The real manifest is the Lean REPL's ``test/Mathlib/lake-manifest.json`` at v4.24.0 (Mathlib v4.24.0 with
its dependencies), read from PROVEBENCH_LEAN_REPL_SRC (a checkout, or its test/ folder extracted:
``git --git-dir=MIRROR archive v4.24.0 test | tar -x -C DIR``); there is no GitHub here or in CI, so
without it those tests skip. The rest runs on a manifest of the same shape written here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "harness" / "lean" / "pin_manifest.py"
REPL_SRC = os.environ.get("PROVEBENCH_LEAN_REPL_SRC", "")
REAL = Path(REPL_SRC) / "test" / "Mathlib" / "lake-manifest.json"


def _entry(name: str, config: str, inherited: bool = True) -> dict[str, Any]:
    return {
        "url": f"https://example.org/{name}",
        "type": "git",
        "subDir": None,
        "scope": "leanprover-community",
        "rev": "0" * 40,
        "name": name,
        "manifestFile": "lake-manifest.json",
        "inputRev": "main",
        "inherited": inherited,
        "configFile": config,
    }


def _manifest() -> dict[str, Any]:
    packages = [_entry("mathlib", "lakefile.lean", False), _entry("batteries", "lakefile.toml")]
    return {"version": "1.1.0", "packagesDir": ".lake/packages", "packages": packages, "name": "p", "lakeDir": ".lake"}


def _run(manifest: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, str(manifest)], capture_output=True, text=True, check=False
    )


def _project(tmp_path: Path, manifest: dict[str, Any]) -> Path:
    """A project folder with each package's own config file where Lake looks for it."""
    for p in manifest["packages"]:
        folder = tmp_path / ".lake" / "packages" / p["name"]
        folder.mkdir(parents=True)
        (folder / p["configFile"]).write_text("-- config\n")
    path = tmp_path / "lake-manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def _check_pinned(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert {k: v for k, v in after.items() if k != "packages"} == {k: v for k, v in before.items() if k != "packages"}
    assert [p["name"] for p in after["packages"]] == [p["name"] for p in before["packages"]]
    for old, new in zip(before["packages"], after["packages"], strict=True):
        assert new["type"] == "path" and new["dir"] == f".lake/packages/{old['name']}"
        assert "url" not in new and "rev" not in new  # nothing left to fetch
        for key in ("configFile", "scope", "inherited", "manifestFile"):
            assert new[key] == old[key], (old["name"], key)


def test_each_package_keeps_its_own_config_file(tmp_path: Path) -> None:
    before = _manifest()
    path = _project(tmp_path, before)
    done = _run(path, "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    _check_pinned(before, json.loads(path.read_text()))


def test_a_config_file_lake_would_not_find_fails_the_build(tmp_path: Path) -> None:
    before = _manifest()
    path = _project(tmp_path, before)
    (tmp_path / ".lake" / "packages" / "batteries" / "lakefile.toml").unlink()
    (tmp_path / ".lake" / "packages" / "batteries" / "lakefile.lean").write_text("-- the old rewrite's guess\n")
    done = _run(path, "--root", str(tmp_path))
    assert done.returncode == 1 and "batteries: .lake/packages/batteries/lakefile.toml" in done.stderr
    assert json.loads(path.read_text()) == before  # left as it was


@pytest.mark.upstream
def test_the_real_mathlib_v4_24_0_manifest(tmp_path: Path) -> None:
    if not REAL.is_file():
        pytest.skip("PROVEBENCH_LEAN_REPL_SRC does not name a Lean REPL checkout with test/Mathlib/lake-manifest.json")
    before = json.loads(REAL.read_text())
    configs = {p["name"]: p["configFile"] for p in before["packages"]}
    assert "lakefile.toml" in configs.values(), "the real manifest mixes config file kinds"
    path = _project(tmp_path, before)
    done = _run(path, "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    after = json.loads(path.read_text())
    _check_pinned(before, after)
    assert {p["name"]: p["configFile"] for p in after["packages"]} == configs
