"""Importing s2n-bignum-bench from its published artefacts (fixtures written here in its schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.settings import CheckerBuild
from provebench.suites.folder import MAX_PROMPT_BYTES
from provebench.suites.load import load_suite
from provebench.suites.s2n_bignum import (
    CONTEXT_MEMORY_MB,
    TIMEOUT_SCALE,
    import_artefacts,
    load_timeout_map,
    timeout_for,
)
from tests.prompt_suites import PROMPT

SHARED_MAP = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "s2n-bignum-bench" / "timeout-map.json"

# A CHEAT_TAC template in the benchmark's layout: the native-build preamble, a blank line
# before each theorem, and earlier proofs admitted.
TEMPLATE = """open Hol_lib;;
open Hol_loader;;
needs "Library/words.ml";;

let WORD_LEMMA = prove
 (`!x:int64. word_and x x = x`,
  CHEAT_TAC);;

let BIGNUM_ADD_CORRECT = prove
 (`!a b. nonoverlapping (a,8) (b,8) ==> ensures arm P Q R`,
  CHEAT_TAC);;

let DOUBLE = prove(`!n. 2 * n = n + n`, CHEAT_TAC);;

let DOUBLE = prove(`!n. n + n = 2 * n`, CHEAT_TAC);;
"""


def _problem(name: str, category: str, query: str, line: int, where: str = "/build/bench/ml_files/arm/x.ml") -> dict:
    return {
        "json": {"theorem_name": name, "filename": "/build/s2n-bignum/arm/proofs/x.ml"},
        "category": category,
        "query": query,
        "legacy_id": f"arm.x.{line}.{name}",
        "inlined_locations": [[where, line]],
    }


def _artefacts(tmp_path: Path, problems: dict | None = None) -> Path:
    src = tmp_path / "bench"
    (src / "ml_files" / "arm").mkdir(parents=True)
    (src / "ml_files" / "arm" / "x.ml").write_text(TEMPLATE)
    problems = problems or {
        # the benchmark records the blank line before each theorem
        "arm.x.WORD_LEMMA": _problem("WORD_LEMMA", "bit_vector", "`!x:int64. word_and x x = x`", 4),
        "arm.x.BIGNUM_ADD_CORRECT": _problem(
            "BIGNUM_ADD_CORRECT",
            "functional_correctness_arm",
            "`!a b. nonoverlapping (a,8) (b,8) ==> ensures arm P Q R`",
            8,
        ),
        "arm.x.DOUBLE.0": _problem("DOUBLE", "generic", "`!n. 2 * n = n + n`", 12),
        "arm.x.DOUBLE.1": _problem("DOUBLE", "generic", "(`!n. n + n = 2 * n`)", 14),
    }
    (src / "problems.json").write_text(json.dumps(problems))
    return src


def test_import_cuts_each_context_before_its_theorem(tmp_path: Path) -> None:
    timeouts = tmp_path / "map.json"
    timeouts.write_text(
        json.dumps([{"problem_id": "arm.x.BIGNUM_ADD_CORRECT", "prove_secs": 300.0, "timeout_sec": 1500}])
    )
    report = import_artefacts(_artefacts(tmp_path), tmp_path / "suite", timeouts, {"s2n_bignum_commit": "ac31a43"})
    assert report.problems == 4 and report.templates == 1 and report.timeouts_from_map == 1
    suite = load_suite(tmp_path / "suite")
    assert suite.manifest.checker_image == "hol-light-s2n@ac31a43"  # the image must be built from that commit
    assert suite.manifest.metadata["s2n_bignum_commit"] == "ac31a43"
    by_id = {p.id: p for p in suite.problems}
    assert set(by_id) == {"arm.x.WORD_LEMMA", "arm.x.BIGNUM_ADD_CORRECT", "arm.x.DOUBLE.0", "arm.x.DOUBLE.1"}
    assert by_id["arm.x.DOUBLE.1"].statement == "!n. n + n = 2 * n"  # parentheses around the quotation go
    # The benchmark's timeouts, for its native build, scaled for the bytecode toplevel that checks here.
    assert by_id["arm.x.BIGNUM_ADD_CORRECT"].timeout_s == 1500 * TIMEOUT_SCALE
    assert by_id["arm.x.WORD_LEMMA"].timeout_s == 7200 * TIMEOUT_SCALE
    for p in suite.problems:
        assert p.template is not None and p.template_line is not None
        lines = Path(p.template).read_text().split("\n")
        name = p.id.split(".")[2]
        assert lines[p.template_line - 1].startswith(f"let {name} =")  # the cut is right before the theorem
        context = "\n".join(lines[: p.template_line - 1])
        assert p.statement not in context  # the theorem is never in its own context
    template = Path(by_id["arm.x.DOUBLE.0"].template or "").read_text()
    assert "Hol_lib" not in template and "Hol_loader" not in template
    assert template.count("\n") == TEMPLATE.count("\n")  # blanked, not removed: line numbers hold


def test_the_suite_hash_covers_the_templates(tmp_path: Path) -> None:
    import_artefacts(_artefacts(tmp_path), tmp_path / "suite")
    before = load_suite(tmp_path / "suite").content_hash
    template = tmp_path / "suite" / "templates" / "arm" / "x.ml"
    template.write_text(template.read_text().replace("CHEAT_TAC", "ALL_TAC", 1))
    assert load_suite(tmp_path / "suite").content_hash != before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "poetry"}, "unknown category 'poetry'"),
        ({"query": "mk_eq(a, b)"}, "the query holds no backquoted HOL Light term"),
        ({"inlined_locations": []}, "inlined_locations is missing"),
        ({"inlined_locations": [["/b/ml_files/arm/none.ml", 3]]}, "template arm/none.ml not found"),
        ({"inlined_locations": [["/b/ml_files/arm/x.ml", 40]]}, "no `let WORD_LEMMA =` near line 40"),
        ({"json": {}}, "json.theorem_name is missing"),
    ],
)
def test_malformed_artefacts_give_one_line_errors(tmp_path: Path, change: dict, message: str) -> None:
    problem = {**_problem("WORD_LEMMA", "bit_vector", "`!x:int64. word_and x x = x`", 4), **change}
    src = _artefacts(tmp_path, {"arm.x.WORD_LEMMA": problem})
    with pytest.raises(UserError, match=message) as info:
        import_artefacts(src, tmp_path / "suite")
    assert "\n" not in str(info.value) and not (tmp_path / "suite").exists()


def test_not_the_artefacts(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found \\(expected the benchmark's problems.json\\)"):
        import_artefacts(tmp_path, tmp_path / "suite")
    (tmp_path / "problems.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="expected a non-empty mapping"):
        import_artefacts(tmp_path, tmp_path / "suite")


@pytest.mark.parametrize(("p", "t"), [(0.02, 120), (59.9, 120), (60.5, 121), (119.9, 239), (120, 600), (3000, 10800)])
def test_the_timeout_rule(p: float, t: int) -> None:
    assert timeout_for(p) == t


@pytest.mark.skipif(not SHARED_MAP.exists(), reason=f"the shared timeout map is not at {SHARED_MAP}")
def test_the_shared_timeout_map_follows_the_rule() -> None:
    entries = load_timeout_map(SHARED_MAP)
    assert len(entries) == 2622
    assert all(e.timeout_s == timeout_for(e.prove_seconds) for e in entries.values() if e.prove_seconds is not None)


def test_bad_timeout_maps(tmp_path: Path) -> None:
    f = tmp_path / "map.json"
    f.write_text('[{"problem_id": "a", "timeout_sec": -5}]')
    with pytest.raises(UserError, match="entry 1 \\(a\\): timeout_sec must be a positive number"):
        load_timeout_map(f)
    f.write_text("{")
    with pytest.raises(UserError, match="not a JSON timeout map"):
        load_timeout_map(f)


def test_cli_import_then_suites_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVEBENCH_SUITES_DIR", str(tmp_path / "suites"))
    src = _artefacts(tmp_path)
    assert main(["suites", "import", "s2n-bignum", "--from", str(src), "--s2n-commit", "ac31a43"]) == 0
    assert "imported 4 problems" in capsys.readouterr().out
    assert main(["suites", "list"]) == 0
    assert "s2n-bignum" in capsys.readouterr().out
    assert main(["suites", "import", "s2n-bignum", "--from", str(src)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err


def test_cli_import_takes_a_timeout_scale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = _artefacts(tmp_path), tmp_path / "suite"
    assert (
        main(["suites", "import", "s2n-bignum", "--from", str(src), "--timeout-scale", "1.5", "--out", str(out)]) == 0
    )
    said = capsys.readouterr()
    assert "imported 4 problems" in said.out
    # Without a map, one line says how the timeouts were chosen, and how to pass the benchmark's own.
    (line,) = [ln for ln in said.err.splitlines() if ln.startswith("timeouts:")]
    assert "no timeout map" in line and "timeouts.json (7200 s)" in line and "times 1.5" in line
    assert "10800 s" in line and "--timeout-map timeout-map.json" in line
    suite = load_suite(out)
    assert suite.manifest.timeout_scale == 1.5
    assert suite.problem("arm.x.WORD_LEMMA").timeout_s == 7200 * 1.5
    assert main(["suites", "show", str(out)]) == 0
    assert "multiplied by 1.5" in capsys.readouterr().out
    bad = ["suites", "import", "s2n-bignum", "--from", str(src), "--timeout-scale", "0", "--out", str(tmp_path / "b")]
    assert main(bad) == 2
    assert "--timeout-scale must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    assert main(["suites", "import", "combibench", "--from", str(src), "--timeout-scale", "2"]) == 2
    assert "--timeout-scale is for s2n-bignum" in capsys.readouterr().err


def test_a_suite_imported_for_native_checkers_keeps_the_benchmarks_timeouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _artefacts(tmp_path)
    argv = ["suites", "import", "s2n-bignum", "--from", str(src), "--s2n-commit", "ac31a43"]
    assert main([*argv, "--out", str(tmp_path / "native")]) == 0  # native is the default
    assert "times 1 (--timeout-scale)" in capsys.readouterr().err
    assert main([*argv, "--checker", "bytecode", "--out", str(tmp_path / "bytecode")]) == 0
    assert "times 4 (--timeout-scale)" in capsys.readouterr().err
    native, bytecode = load_suite(tmp_path / "native"), load_suite(tmp_path / "bytecode")
    assert native.manifest.checker is CheckerBuild.NATIVE and bytecode.manifest.checker is None
    assert (native.manifest.timeout_scale, bytecode.manifest.timeout_scale) == (1.0, TIMEOUT_SCALE)
    p, q = native.problem("arm.x.WORD_LEMMA"), bytecode.problem("arm.x.WORD_LEMMA")
    assert p.checker_image == "hol-light-s2n-native@ac31a43" and q.checker_image == "hol-light-s2n@ac31a43"
    assert p.timeout_s * TIMEOUT_SCALE == q.timeout_s


def test_the_timeout_scale_is_part_of_the_suite_hash_and_the_context_memory_is_not(tmp_path: Path) -> None:
    src = _artefacts(tmp_path)
    import_artefacts(src, tmp_path / "a", timeout_scale=1.0)
    import_artefacts(src, tmp_path / "b", timeout_scale=2.0)
    a_hash = load_suite(tmp_path / "a").content_hash
    assert a_hash != load_suite(tmp_path / "b").content_hash
    # The memory reserved for walkers sizes containers; it does not decide verdicts.
    manifest = tmp_path / "a" / "suite.yaml"
    text = manifest.read_text()
    assert f"context_memory_mb: {CONTEXT_MEMORY_MB}\n" in text
    manifest.write_text(text.replace(f"context_memory_mb: {CONTEXT_MEMORY_MB}", "context_memory_mb: 99999"))
    assert load_suite(tmp_path / "a").manifest.context_memory_mb == 99999
    assert load_suite(tmp_path / "a").content_hash == a_hash


def test_a_checker_refuses_problems_of_another_context(tmp_path: Path) -> None:
    from provebench.core.model import CheckerInfo, System
    from provebench.systems.hol_light.templates import TemplateForest
    from provebench.systems.hol_light.verifier import HolLightVerifier

    import_artefacts(_artefacts(tmp_path), tmp_path / "suite")
    problem = load_suite(tmp_path / "suite").problem("arm.x.DOUBLE.0")
    info = CheckerInfo(image="x", digest="x", system=System.HOL_LIGHT, version="x")
    verifier = HolLightVerifier(launcher=None, checker=info)  # type: ignore[arg-type] - never launched
    with pytest.raises(UserError, match="do not share a context"):  # a core checker has no template loaded
        verifier.check(problem, "ARITH_TAC")
    other = TemplateForest([problem.model_copy(update={"template_line": (problem.template_line or 1) + 1})])
    verifier = HolLightVerifier(launcher=None, checker=info, templates=other)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="not at a position this checker holds"):
        verifier.check(problem, "ARITH_TAC")


def test_the_suite_asks_for_6_gb_per_check_unless_the_user_sets_a_limit(tmp_path: Path) -> None:
    from provebench.containers import HOL_LIGHT_PIN
    from provebench.core.settings import Settings, check_memory_mb

    import_artefacts(_artefacts(tmp_path), tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    assert suite.manifest.metadata["hol_light_version"] == HOL_LIGHT_PIN
    assert check_memory_mb(Settings(), suite.problems) == 6144
    assert check_memory_mb(Settings(memory_mb=3000), suite.problems) == 3000
    assert check_memory_mb(Settings().model_copy(update={"memory_mb": 5000}), suite.problems) == 5000
    from provebench.suites.load import find_suite

    core = find_suite("hol-light-core", tmp_path / "no-user-suites")
    assert check_memory_mb(Settings(), core.problems) == Settings().memory_mb


def test_a_checker_of_the_suite_reserves_memory_for_its_walkers(tmp_path: Path) -> None:
    from provebench.core.settings import (
        Settings,
        checker_memory_mb,
        checkers_in_budget,
        context_memory_mb,
        sized_settings,
    )
    from provebench.suites.load import find_suite
    from provebench.suites.s2n_bignum import CONTEXT_MEMORY_MB, MEMORY_MB

    import_artefacts(_artefacts(tmp_path), tmp_path / "suite")
    problems = load_suite(tmp_path / "suite").problems
    assert context_memory_mb(Settings(), problems) == CONTEXT_MEMORY_MB > Settings().container_headroom_mb
    assert context_memory_mb(Settings(container_headroom_mb=3000), problems) == 3000  # the user's wins
    core = find_suite("hol-light-core", tmp_path / "no-user-suites").problems
    assert context_memory_mb(Settings(), core) == Settings().container_headroom_mb
    # As the group verifier sizes its checkers: 14 GB each, so a 20 GB budget keeps one warm, not two.
    sized = sized_settings(Settings(checkers=2, memory_budget_mb=20_000), problems)
    assert checker_memory_mb(sized) == MEMORY_MB + CONTEXT_MEMORY_MB and checkers_in_budget(sized) == 1


def test_the_benchmarks_prompt_file_beside_the_artefacts_goes_into_the_suite_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The artefacts are the benchmark's folder after its setup: its prompt-basic.txt sits beside problems.json."""
    src = _artefacts(tmp_path)
    data = PROMPT.replace("\n", "\r\n").encode() + b"\xc2\xa0\n"  # whatever its bytes, they are kept
    (src / "prompt-basic.txt").write_bytes(data)
    out = tmp_path / "suite"
    assert main(["suites", "import", "s2n-bignum", "--from", str(src), "--out", str(out)]) == 0
    assert (out / "prompts" / "prompt-basic.txt").read_bytes() == data
    suite = load_suite(out)
    assert suite.manifest.prompts == ("prompt-basic.txt",)
    assert all(p.prompt_files == (str(out.resolve() / "prompts" / "prompt-basic.txt"),) for p in suite.problems)
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("prompt files:")]
    assert line == (
        f"prompt files: prompt-basic.txt, the benchmark's own, in {out / 'prompts'} "
        "(what `--prompt s2n-bignum-bench` sends)"
    )


def test_artefacts_without_the_prompt_file_make_a_suite_without_one_and_the_import_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "suite"
    assert main(["suites", "import", "s2n-bignum", "--from", str(_artefacts(tmp_path)), "--out", str(out)]) == 0
    assert not (out / "prompts").exists() and load_suite(out).manifest.prompts == ()
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("prompt files:")]
    assert line.startswith("prompt files: none (they come from a benchmark checkout: ")
    assert line.endswith("so `--prompt s2n-bignum-bench` cannot prompt for this suite")


def test_a_prompt_file_beside_the_artefacts_that_is_no_prompt_is_refused(tmp_path: Path) -> None:
    src = _artefacts(tmp_path)
    with (src / "prompt-basic.txt").open("wb") as f:
        f.truncate(MAX_PROMPT_BYTES + 1)
    with pytest.raises(UserError, match="over the limit of 1048576 bytes for a suite prompt file"):
        import_artefacts(src, tmp_path / "suite")
    assert not (tmp_path / "suite").exists()
