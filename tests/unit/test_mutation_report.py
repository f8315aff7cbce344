"""The mutation report: survivors are killed or explained, and the explanations are well-formed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.load_by_path import load_by_path

ROOT = Path(__file__).resolve().parents[2]


mutation = load_by_path(ROOT / "scripts" / "mutation.py", "mutation_script")

RESULTS = """\
    provebench.boards.bundle.x_pack__mutmut_1: killed
    provebench.boards.bundle.x_pack__mutmut_2: survived
    provebench.boards.bundle.xǁBundleǁread__mutmut_3: no tests
    provebench.service.server.x_serve__mutmut_4: not checked
    provebench.service.server.x_serve__mutmut_5: timeout
"""


def test_a_survivor_is_left_until_it_is_explained() -> None:
    found = mutation.statuses(RESULTS)
    table, left = mutation.report(found, {})
    assert left == ["provebench.boards.bundle.x_pack__mutmut_2", "provebench.boards.bundle.xǁBundleǁread__mutmut_3"]
    assert "provebench.boards.bundle" in table and " 33.3%" in table  # 1 caught of 3 judged
    _, left = mutation.report(found, {"provebench.boards.bundle.x_pack__mutmut_2": "equivalent"})
    assert left == ["provebench.boards.bundle.xǁBundleǁread__mutmut_3"]


def test_an_explanation_without_a_reason_is_refused(tmp_path: Path) -> None:
    (tmp_path / "provebench.boards.bundle.yaml").write_text("- mutant: provebench.boards.bundle.x_pack__mutmut_2\n")
    with pytest.raises(SystemExit, match="needs `mutant` and `why`"):
        mutation.explained(tmp_path)


def test_each_explanation_names_a_mutant_of_its_own_module() -> None:
    for path in sorted((ROOT / "tests" / "mutation").glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for entry in entries:
            assert set(entry) <= {"mutant", "change", "why"}, f"{path.name}: {entry}"
            assert str(entry["mutant"]).startswith(path.stem + ".x"), f"{path.name}: {entry}"
            assert len(str(entry["why"]).split()) >= 3, f"{path.name}: {entry['mutant']}: say why no test kills it"
        names = [e["mutant"] for e in entries]
        assert len(names) == len(set(names)), f"{path.name}: a mutant explained twice"
    assert mutation.explained() is not None  # the script reads the same files
