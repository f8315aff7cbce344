"""The fixtures every submission test uses: settings in the test's own folders, a finished run checked by the
double, and that run packed as a bundle (helpers in tests/submission_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.core.settings import Settings
from provebench.runs.run import RunDir
from tests.submission_support import double_settings, finished_run, packed_bundle


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return double_settings(tmp_path)


@pytest.fixture()
def run(tmp_path: Path, settings: Settings) -> RunDir:
    return finished_run(tmp_path, settings)


@pytest.fixture()
def packed(run: RunDir, tmp_path: Path) -> Path:
    return packed_bundle(run, tmp_path)
