"""Kimina Lean Server's API as provebench serves it, read by the real, unmodified ``kimina-client`` from PyPI.

kimina-client cannot import on Python 3.11 (its models use ``typing.TypedDict``, which pydantic refuses
before 3.12), so it runs in a venv of its own (``make kimina-client``: .venv-kimina) through
tests/kimina_probe.py. No Lean toolchain runs here: the service's Lean checkers talk to
tests/doubles/lean_repl.py (a DOUBLE of the Lean REPL speaking its JSON protocol) through the real
driver and verifier. The same against the real Lean image is in tests/integration/test_lean_image.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.core.model import System
from provebench.core.settings import Backend, Settings
from provebench.service.app import create_app
from provebench.service.state import ServiceState
from tests.components import missing_component
from tests.service_support import served

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = f"{sys.executable} {ROOT / 'tests' / 'doubles' / 'lean_repl.py'}"
COMPARATOR = f"{sys.executable} {ROOT / 'tests' / 'doubles' / 'comparator.py'}"
KIMINA_PYTHON = Path(os.environ.get("PROVEBENCH_KIMINA_PYTHON", ROOT / ".venv-kimina" / "bin" / "python"))
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
PROVED = HEADER + "theorem two : (1 : ℕ) + 1 = 2 := by\n  norm_num\n"
SORRY = HEADER + "theorem two : (1 : ℕ) + 1 = 2 := by\n  sorry\n"
NATIVE = HEADER + "theorem two : (1 : ℕ) + 1 = 2 := by\n  native_decide\n"
AXIOM = HEADER + "axiom cheat : (1 : ℕ) + 1 = 2\n\ntheorem two : (1 : ℕ) + 1 = 2 := cheat\n"
WRONG = HEADER + "theorem two : (1 : ℕ) + 1 = 3 := by\n  -- double: error unsolved goals\n  norm_num\n"
SLOW = HEADER + "theorem two : (1 : ℕ) + 1 = 2 := by\n  -- double: hang\n  norm_num\n"
# Lean's `stop` is `repeat sorry`: a sorry the REPL's double does not see (no `sorry` word) and comparator's does.
STOPPED = HEADER + "theorem two : (1 : ℕ) + 1 = 2 := by\n  stop\n  norm_num\n"
SNIPPETS = {"proved": PROVED, "sorry": SORRY, "native": NATIVE, "axiom": AXIOM, "wrong": WRONG}
KEY = "kimina-key"


def kimina(url: str, client: str, snippets: dict[str, str] | None = None, timeout: int = 20, key: str = KEY) -> Any:
    """What the real kimina-client makes of the service's answers."""
    if not KIMINA_PYTHON.exists():
        missing_component("kimina-client", f"needs Python 3.12+ in {KIMINA_PYTHON} (`make kimina-client` makes it)")
    ask = {"url": url, "key": key, "client": client, "timeout": timeout}
    ask["snippets"] = [{"id": k, "code": v} for k, v in (snippets or {}).items()]
    return _probe("kimina_probe.py", ask)


def _probe(script: str, ask: dict[str, Any]) -> Any:
    """Run a client probe (tests/SCRIPT) in the kimina venv; its last line of output, as JSON."""
    done = subprocess.run(
        [str(KIMINA_PYTHON), str(ROOT / "tests" / script)],
        input=json.dumps(ask),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script} failed: {done.stderr.strip().splitlines()[-3:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # the clients log to stdout before it


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    settings = Settings(backend=Backend.LOCAL, lean_repl_command=DOUBLE, checkers=2, infra_backoff_s=0)
    state = ServiceState(engine=Engine(settings), systems=(System.LEAN4,), token=KEY)
    with served(create_app(state)) as base:
        yield base


def _post(url: str, path: str, body: dict[str, Any], key: str | None = KEY) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(url + path, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_kimina_client_reads_kimina_s_meaning_and_the_strict_verdict_beside_it(url: str) -> None:
    # Kimina's meaning: the code as code (no error, no sorry). native_decide and an axiom compile: "valid",
    # as on Kimina's own server; provebench's strict verdict on the same snippet says what they are.
    status = {r["id"]: r["status"] for r in kimina(url, "sync", SNIPPETS)}
    assert status == {"proved": "valid", "sorry": "sorry", "native": "valid", "axiom": "valid", "wrong": "lean_error"}
    body = {"snippets": [{"id": k, "code": v} for k, v in SNIPPETS.items()], "timeout": 20}
    _, reply = _post(url, "/api/check", body)
    strict = {r["id"]: r["verdict"]["status"] for r in reply["results"]}
    assert strict == {"proved": "PASS", "sorry": "FAIL", "native": "CHEATING", "axiom": "CHEATING", "wrong": "FAIL"}


def test_a_check_over_its_timeout_is_kimina_s_timeout_error(url: str) -> None:
    (slow,) = kimina(url, "sync", {"slow": SLOW}, timeout=2)
    assert slow["status"] == "timeout_error" and "timed out" in slow["error"]


def test_the_async_client_gets_the_same_answers(url: str) -> None:
    answers = kimina(url, "async", {"proved": PROVED, "wrong": WRONG, "native": NATIVE})
    assert sorted((r["id"], r["status"]) for r in answers) == [
        ("native", "valid"),
        ("proved", "valid"),
        ("wrong", "lean_error"),
    ]


def test_kimina_client_s_health_check(url: str) -> None:
    assert kimina(url, "health") == {"status": "ok"}


def test_api_check_passes_the_repl_s_reply_on_untouched_with_the_verdict_beside_it(url: str) -> None:
    body = {"snippets": [{"id": k, "code": v} for k, v in SNIPPETS.items()], "timeout": 20}
    status, reply = _post(url, "/api/check", body)
    assert status == 200
    results = {r["id"]: r for r in reply["results"]}
    # Kimina's fields are the REPL's: no message of provebench's is added to them, whatever the verdict.
    for key, result in results.items():
        assert set(result) == {"id", "time", "error", "response", "verdict"}, key
        assert result["error"] is None and isinstance(result["time"], float), key
        assert not any("provebench" in m["data"] for m in result["response"].get("messages", [])), key
    assert results["proved"]["response"].keys() <= {"env", "time"}  # a clean run: empty lists left out
    assert "unsolved goals" in json.dumps(results["wrong"]["response"]["messages"])
    assert results["sorry"]["response"]["sorries"]
    assert results["native"]["verdict"]["reason"] == "forbidden-construct"
    assert results["axiom"]["verdict"]["status"] == "CHEATING"


def test_verify_takes_proof_or_code_and_answers_by_custom_id(url: str) -> None:
    body = {
        "codes": [
            {"custom_id": "a", "proof": PROVED},
            {"custom_id": 7, "code": NATIVE},
            {"custom_id": "t", "proof": SLOW},
        ],
        "timeout": 2,
        "infotree_type": "original",
        "disable_cache": True,
    }
    status, reply = _post(url, "/verify", body)
    assert status == 200
    a, seven, slow = reply["results"]
    assert (a["custom_id"], seven["custom_id"], slow["custom_id"]) == ("a", 7, "t")
    # Every key the clients read, null included (CombiBench's client reads res["error"] directly).
    assert all(set(r) == {"custom_id", "error", "response", "verdict"} for r in (a, seven, slow))
    assert a["verdict"]["status"] == "PASS" and a["error"] is None and isinstance(a["response"]["time"], float)
    assert seven["verdict"]["reason"] == "forbidden-construct" and seven["error"] is None
    assert not any(m["severity"] == "error" for m in seven["response"].get("messages", []))  # it compiles
    assert "timed out" in slow["error"] and slow["response"] is None and slow["verdict"]["status"] == "TIMEOUT"


def test_bad_requests_get_one_line_errors(url: str) -> None:
    assert _post(url, "/api/check", {"snippets": []})[0] == 422
    code, reply = _post(url, "/verify", {"codes": [{"custom_id": 1}]})
    assert code == 422 and "neither proof nor code" in reply["error"]
    code, reply = _post(url, "/api/check", {"snippets": [{"id": "x", "code": PROVED}]}, key=None)
    assert code == 401 and "bearer token" in reply["error"]
    (refused,) = kimina(url, "sync", {"proved": PROVED}, key="wrong")  # the client's own way of saying so
    assert refused["status"] == "server_error" and refused["response"] is None


def test_a_file_that_declares_no_named_theorem_is_not_a_pass(url: str) -> None:
    # Nothing to check a proof of: only an example and a #check elaborate, with no error from the REPL.
    examples = HEADER + "example : (1 : ℕ) + 1 = 2 := by\n  norm_num\n\n#check Nat\n"
    status, reply = _post(url, "/api/check", {"snippets": [{"id": "ex", "code": examples}], "timeout": 20})
    assert status == 200
    (result,) = reply["results"]
    assert result["verdict"]["status"] == "FAIL", result["verdict"]
    assert result["verdict"]["reason"] == "missing-theorem" and result["error"] is None
    status, reply = _post(url, "/verify", {"codes": [{"custom_id": "ex", "proof": examples}], "timeout": 20})
    assert status == 200
    (result,) = reply["results"]
    assert result["verdict"]["status"] == "FAIL", result["verdict"]
    assert "response" in result and result["error"] is None


def test_get_root_answers_as_kimina_s_server_does(url: str) -> None:
    request = urllib.request.Request(url + "/", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert json.loads(reply.read()) == {"status": "ok"}


COMBIBENCH_SRC = os.environ.get("PROVEBENCH_COMBIBENCH_SRC", "")


def test_combibench_s_own_client_scores_through_the_service(url: str) -> None:
    # CombiBench's evaluation client, unmodified, from a checkout (no GitHub here or in CI: a test of a
    # component that cannot exist on these machines, so it skips rather than fails):
    #   git --git-dir=MIRROR archive HEAD evaluation/client | tar -x -C DIR; PROVEBENCH_COMBIBENCH_SRC=DIR
    client = Path(COMBIBENCH_SRC) / "evaluation" / "client" / "lean_client.py"
    if not COMBIBENCH_SRC or not client.is_file():
        pytest.skip("PROVEBENCH_COMBIBENCH_SRC does not name a CombiBench checkout with evaluation/client")
    if not KIMINA_PYTHON.exists():
        missing_component("kimina-client", f"needs Python 3.12+ in {KIMINA_PYTHON} (`make kimina-client` makes it)")
    codes = {"proved": PROVED, "sorry": SORRY, "wrong": WRONG, "native": NATIVE}
    ask = {"src": COMBIBENCH_SRC, "url": url, "key": KEY, "codes": codes, "timeout": 20}
    judged = _probe("combibench_probe.py", ask)
    # Kimina's meaning as CombiBench reads it; before `error` was always sent, every file scored false.
    assert {name: valid for name, (valid, _) in judged.items()} == {
        "proved": True,
        "sorry": False,
        "wrong": False,
        "native": True,
    }
    assert judged["proved"][1]["verdict"]["status"] == "PASS"
    assert judged["native"][1]["verdict"]["status"] == "CHEATING"


def test_a_lemma_is_checked_as_the_theorem_lean_makes_of_it(url: str) -> None:
    # Mathlib's `lemma` is a macro for `theorem`: Lean's environment, hence the fingerprint, has a theorem.
    body = {"snippets": [{"id": "lemma", "code": PROVED.replace("theorem two", "lemma two")}], "timeout": 20}
    status, reply = _post(url, "/api/check", body)
    assert status == 200
    assert reply["results"][0]["verdict"]["status"] == "PASS", reply["results"][0]["verdict"]


@pytest.fixture(scope="module")
def judged_url() -> Iterator[str]:
    """The service with the trusted judge configured: comparator's double after the REPL's."""
    settings = Settings(
        backend=Backend.LOCAL, lean_repl_command=DOUBLE, lean_judge_command=COMPARATOR, checkers=1, infra_backoff_s=0
    )
    state = ServiceState(engine=Engine(settings), systems=(System.LEAN4,), token=KEY)
    with served(create_app(state)) as base:
        yield base


def test_with_a_judge_a_file_s_verdict_is_the_judge_s_and_its_response_still_the_repl_s(judged_url: str) -> None:
    snippets = {"proved": PROVED, "axiom": AXIOM, "stopped": STOPPED}
    body = {"snippets": [{"id": k, "code": v} for k, v in snippets.items()], "timeout": 20}
    status, reply = _post(judged_url, "/api/check", body)
    assert status == 200
    results = {r["id"]: r for r in reply["results"]}
    verdicts = {k: (r["verdict"]["status"], r["verdict"]["reason"]) for k, r in results.items()}
    assert verdicts == {
        "proved": ("PASS", "proved"),
        "axiom": ("CHEATING", "forbidden-construct"),  # vetting refuses it before the REPL: the judge keeps that
        "stopped": ("FAIL", "sorry"),  # the REPL passed it; the judge did not
    }
    assert any(m.startswith("comparator:") for m in results["stopped"]["verdict"]["messages"])
    # Kimina's fields stay the REPL's own reply: "valid" as Kimina means it, whatever the judge said.
    for key, result in results.items():
        assert result["error"] is None and set(result["response"]) <= {"env", "time", "messages", "sorries"}, key
        assert "comparator" not in json.dumps(result["response"]) and "provebench" not in json.dumps(result["response"])
    assert results["stopped"]["response"].keys() == {"env", "time"}
    assert results["axiom"]["response"].keys() == {"env", "time"}  # it compiles: the REPL ran it as code
    # As the real kimina-client reads them: each compiles without error or sorry as far as the REPL says.
    status = {r["id"]: r["status"] for r in kimina(judged_url, "sync", snippets)}
    assert status == {"proved": "valid", "axiom": "valid", "stopped": "valid"}


def test_with_a_judge_a_file_that_declares_no_named_theorem_stays_a_fail(judged_url: str) -> None:
    examples = HEADER + "example : (1 : ℕ) + 1 = 2 := by\n  norm_num\n"
    status, reply = _post(judged_url, "/verify", {"codes": [{"custom_id": "ex", "proof": examples}], "timeout": 20})
    assert status == 200
    (result,) = reply["results"]
    assert (result["verdict"]["status"], result["verdict"]["reason"]) == ("FAIL", "missing-theorem")
    assert result["error"] is None and result["response"].keys() == {"env", "time"}
