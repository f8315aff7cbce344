"""The claims table (tests/claims.yaml): each guarantee the README and docs state names the tests that catch its loss.

Checked here, with no Docker and no test run: ids are unique, each quote is still in its source (so a reworded
guarantee sends its editor to the table), each named test exists, and a claim with no test is a gap listed below
(a new gap is acknowledged by adding it here, on purpose, not by leaving a claim empty).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "claims.yaml"
ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NODE = re.compile(r"(?P<path>tests/[\w/]+\.py)::(?P<names>\w+(?:::\w+)?)(?:\[[^\]]+\])?")
KEYS = {"id", "claim", "source", "tests", "gap", "note"}

# Guarantees no test guards yet; each claim carries a `gap:` saying which test is missing.
KNOWN_GAPS: set[str] = set()


def _claims() -> list[dict[str, Any]]:
    claims = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    assert isinstance(claims, list) and claims, f"{TABLE} is not a list of claims"
    return claims


CLAIMS = _claims()


def _squeeze(text: str) -> str:
    return " ".join(text.split())


@cache
def _source(name: str) -> str:
    return _squeeze((ROOT / name).read_text(encoding="utf-8"))


@cache
def _defined(path: str) -> frozenset[str]:
    """The test functions of a file, as ``name`` and ``Class::name``."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.add(f"{node.name}::{item.name}")
    return frozenset(found)


def test_the_table_is_well_formed_and_its_ids_unique() -> None:
    ids = [str(c.get("id")) for c in CLAIMS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for claim in CLAIMS:
        assert set(claim) <= KEYS and {"id", "claim", "source", "tests"} <= set(claim), claim
        assert isinstance(claim["id"], str) and ID.fullmatch(claim["id"]), claim["id"]
        assert isinstance(claim["claim"], str) and claim["claim"].strip(), claim["id"]
        source = claim["source"]
        assert isinstance(source, dict) and set(source) == {"file", "quote"}, claim["id"]
        assert isinstance(source["quote"], str) and len(source["quote"].split()) >= 3, claim["id"]
        assert isinstance(claim["tests"], list), claim["id"]
        assert len(claim["tests"]) == len(set(claim["tests"])), claim["id"]


@pytest.mark.parametrize("claim", CLAIMS, ids=[str(c.get("id")) for c in CLAIMS])
def test_each_quote_is_still_in_its_source(claim: dict[str, Any]) -> None:
    source = claim["source"]
    assert (ROOT / source["file"]).is_file(), f"{claim['id']}: no file {source['file']}"
    assert _squeeze(source["quote"]) in _source(source["file"]), (
        f"{claim['id']}: {source['file']} no longer says {source['quote']!r}: revisit the claim and its tests"
    )


@pytest.mark.parametrize("claim", CLAIMS, ids=[str(c.get("id")) for c in CLAIMS])
def test_each_named_test_exists(claim: dict[str, Any]) -> None:
    for node in claim["tests"]:
        match = NODE.fullmatch(node)
        assert match, f"{claim['id']}: {node!r} is not path::function, path::Class::function, with an optional [param]"
        path = match["path"]
        assert (ROOT / path).is_file(), f"{claim['id']}: no test file {path}"
        assert match["names"] in _defined(path), f"{claim['id']}: {path} defines no test {match['names']}"
        assert match["names"].rpartition("::")[2].startswith("test_"), f"{claim['id']}: {node} is not a test"


def test_a_claim_without_a_test_is_a_known_gap() -> None:
    untested = {c["id"] for c in CLAIMS if not c["tests"]}
    assert untested <= KNOWN_GAPS, f"claims with no test, not acknowledged as gaps: {sorted(untested - KNOWN_GAPS)}"
    closed = sorted(KNOWN_GAPS - untested)
    assert not closed, f"gaps that now have tests (take them out of KNOWN_GAPS): {closed}"
    for claim in CLAIMS:
        has_gap = isinstance(claim.get("gap"), str) and bool(claim["gap"].strip())
        assert has_gap == (not claim["tests"]), f"{claim['id']}: a gap: says why no test guards it, and only then"
