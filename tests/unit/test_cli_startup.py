"""Start-up costs what the command needs: ``--help`` and ``check --server`` import nothing heavy.

The figures (wall time of each) are measured by benchmarks/service.py; here, what is imported. The
service in ``test_check_through_a_service_*`` checks with a scripted verifier DOUBLE (this is about
the client); the same command against real HOL Light is in tests/integration/test_service_real.py.
"""

from __future__ import annotations

import importlib
import inspect
import json
import socket
import subprocess
import sys

from provebench import containers
from provebench.boards import exports
from provebench.checking.engine import Engine
from provebench.cli.args import build_parser
from provebench.cli.main import COMMANDS, REMOTE_CHECK, SETTINGS
from provebench.core import names
from provebench.core.model import Reason, Status, System
from provebench.core.settings import Backend, Executor, Settings
from provebench.provers.registry import PROVERS
from provebench.service.app import create_app
from provebench.service.state import ServiceState
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if
from tests.service_support import served

HEAVY = ("docker", "pydantic", "pydantic_settings", "rich", "jinja2", "yaml", "jsonschema", "openai", "tenacity")
PROBE = """
import sys
from provebench.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
print("HEAVY", heavy, "EXIT", code, file=sys.stderr)
sys.exit(code)
"""


def _run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *argv], input=stdin, capture_output=True, text=True, check=False
    )


def test_the_grammar_names_what_the_registries_hold() -> None:
    assert names.SYSTEMS == tuple(s.value for s in System)
    assert names.BACKENDS == tuple(b.value for b in Backend)
    assert names.EXECUTORS == tuple(e.value for e in Executor)
    assert names.IMAGES == tuple(containers.RECIPES)
    assert names.DEFAULT_S2N_BIGNUM == containers.DEFAULT_SOURCES["s2n-bignum"]
    assert names.PROVERS == tuple(sorted(PROVERS))
    assert names.SUBMISSION_FORMATS == exports.FORMATS


def test_every_command_is_in_the_dispatch_table_and_names_a_function_of_its_arguments() -> None:
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert commands is not None and sorted(COMMANDS) == sorted(commands)
    for target in [*COMMANDS.values(), SETTINGS, REMOTE_CHECK]:
        module, _, name = target.partition(":")
        function = getattr(importlib.import_module(module), name)
        wanted = 1 if target in (SETTINGS, REMOTE_CHECK) else 2  # (args) or (args, settings)
        assert len(inspect.signature(function).parameters) == wanted, target


def test_help_says_how_to_check_through_a_service() -> None:
    done = _run("check", "--help")
    assert done.returncode == 0 and "--server URL" in done.stdout and "PROVEBENCH_SERVER" in done.stdout


def test_help_of_every_command_imports_nothing_heavy() -> None:
    probe = (
        "import sys\nfrom provebench.cli.args import build_parser\nbuild_parser()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_check_through_a_service_imports_nothing_heavy_and_prints_as_a_local_check() -> None:
    engine = Engine(Settings(infra_backoff_s=0), lambda _s, _p: ScriptedVerifierDouble(passes_if("ARITH_TAC")))
    state = ServiceState(engine=engine, systems=(System.HOL_LIGHT,))
    with served(create_app(state)) as url:
        state.name = url
        ok = _run("check", "--server", url, "--system", "hol-light", "--goal", "`1 + 1 = 2`", stdin="ARITH_TAC")
        bad = _run("check", "--server", url, "--system", "hol-light", "--goal", "`1 + 1 = 2`", "--json", stdin="X")
        missing = _run("check", "--server", url, "--suite", "no-such-suite", "--problem", "p", stdin="X")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("PASS (proved) goal") and f"checked by the service at {url}" in ok.stdout
    assert "checker: double:0 double packages sha256:0" in ok.stdout
    assert "HEAVY [] EXIT 0" in ok.stderr
    assert bad.returncode == 1
    verdict = json.loads(bad.stdout)
    assert (verdict["status"], verdict["reason"]) == (Status.FAIL.value, Reason.TACTIC_FAILED.value)
    assert "HEAVY [] EXIT 1" in bad.stderr
    assert missing.returncode == 2 and "provebench: error: the service at" in missing.stderr
    assert "no-such-suite" in missing.stderr and "Traceback" not in missing.stderr


def test_check_through_no_service_is_one_line_and_exit_3() -> None:
    # A port held bound but not listening: connections to it are refused, and no other test can serve on it.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        done = _run("check", "--server", url, "--system", "hol-light", "--goal", "T", stdin="X")
    assert done.returncode == 3
    assert done.stderr.startswith("provebench: checker unavailable: no provebench service answers at")
