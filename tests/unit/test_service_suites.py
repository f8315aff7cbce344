"""The service checks only the suites it was started with, named by name; its errors name no server path.

The service runs on real uvicorn with a scripted verifier DOUBLE behind it (this is about which suites it
serves, not about checking); clients are provebench's own (``check --server``) and plain HTTP.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provebench.checking.engine import Engine
from provebench.cli.args import build_parser
from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.model import System
from provebench.core.settings import Settings
from provebench.service.app import create_app
from provebench.service.server import serve_suite_folder
from provebench.service.state import ServiceState
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if
from tests.service_support import served

MANIFEST = "name: {name}\nsystem: hol-light\nversion: '1'\nchecker_image: hol-light\n"


def write_suite(folder: Path, name: str, problems: str = "- {id: a, statement: T}\n") -> Path:
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(MANIFEST.format(name=name))
    (folder / "problems.yaml").write_text(problems)
    return folder


def _state(suites_dir: Path) -> ServiceState:
    settings = Settings(suites_dir=suites_dir, infra_backoff_s=0)
    engine = Engine(settings, lambda _p, _s: ScriptedVerifierDouble(passes_if("ARITH_TAC")))
    return ServiceState(engine=engine, systems=(System.HOL_LIGHT,))


@pytest.fixture()
def user_suites(tmp_path: Path) -> Path:
    """The user's suite folder (settings), with one good suite and one that cannot load."""
    write_suite(tmp_path / "suites" / "mine", "mine")
    write_suite(tmp_path / "suites" / "broken", "broken", "- {id: a}\n")
    return tmp_path / "suites"


@pytest.fixture()
def service(user_suites: Path) -> Iterator[tuple[str, ServiceState]]:
    state = _state(user_suites)
    with served(create_app(state)) as url:
        yield url, state


def _post(url: str, path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("path", ["/v1/identity", "/v1/check", "/v1/warm"])
def test_a_suite_named_by_a_server_path_is_refused_and_nothing_loads(
    service: tuple[str, ServiceState], tmp_path: Path, path: str
) -> None:
    url, state = service
    elsewhere = write_suite(tmp_path / "elsewhere", "elsewhere")
    proof = {"proof": "ARITH_TAC"} if path == "/v1/check" else {}  # a body each route takes, but for the path
    for named in (str(elsewhere), "../../..", str(user_suites_of(state) / "mine"), "./mine"):
        code, reply = _post(url, path, {"suite": named, "problem": "a", **proof})
        assert code == 422 and "by its name" in reply["error"], reply
        assert str(tmp_path) not in reply["error"]
    assert state.suites == {} and state.engine.status() == []  # no suite loaded, no checker planned


@pytest.mark.parametrize("path", ["/v1/identity", "/v1/check"])
def test_a_name_is_never_looked_up_as_a_folder_of_the_service_s_working_directory(
    service: tuple[str, ServiceState], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A bare name is a name too: ``stray`` is not read from wherever the service happens to run."""
    url, state = service
    write_suite(tmp_path / "cwd" / "stray", "stray")
    monkeypatch.chdir(tmp_path / "cwd")
    proof = {"proof": "ARITH_TAC"} if path == "/v1/check" else {}
    code, reply = _post(url, path, {"suite": "stray", "problem": "a", **proof})
    assert code == 404 and "serves no suite 'stray'" in reply["error"], reply
    assert state.suites == {} and state.engine.status() == []


def user_suites_of(state: ServiceState) -> Path:
    return state.engine.settings.suites_dir


def test_suites_are_served_by_name_bundled_and_the_user_s(service: tuple[str, ServiceState]) -> None:
    url, _ = service
    assert _post(url, "/v1/check", {"suite": "mine", "problem": "a", "proof": "ARITH_TAC"})[1]["verdict"]["status"]
    code, reply = _post(url, "/v1/identity", {"suite": "hol-light-core", "problem": "add_comm"})
    assert code == 200 and reply["suite_hash"].startswith("sha256:")


def test_errors_about_suites_name_no_server_path(service: tuple[str, ServiceState], user_suites: Path) -> None:
    url, _ = service
    code, reply = _post(url, "/v1/identity", {"suite": "nope", "problem": "a"})
    assert code == 404 and "hol-light-core" in reply["error"] and "--suite" in reply["error"]
    code, reply = _post(url, "/v1/check", {"suite": "broken", "problem": "a", "proof": "X"})
    assert code == 503 and "broken" in reply["error"]
    code, reply = _post(url, "/v1/check", {"suite": "mine", "problem": "zz", "proof": "X"})
    assert code == 404 and "zz" in reply["error"]
    for error in (_post(url, "/v1/identity", {"suite": s, "problem": "a"})[1]["error"] for s in ("nope", "broken")):
        assert "/" not in error.replace("--suite PATH", ""), error  # no server path, whatever it names


def test_serve_takes_suite_folders_and_refuses_a_second_suite_of_one_name(tmp_path: Path, user_suites: Path) -> None:
    args = build_parser().parse_args(["serve", "--suite", "a", "--suite", "b"])
    assert args.suite == ["a", "b"]
    state = _state(user_suites)
    serve_suite_folder(state, write_suite(tmp_path / "extra", "extra"))
    serve_suite_folder(state, user_suites / "mine")  # the same folder again: fine
    with pytest.raises(UserError, match="--suite .*: this service already serves a suite named 'mine'"):
        serve_suite_folder(state, write_suite(tmp_path / "other" / "mine", "mine"))
    with pytest.raises(UserError, match="--suite .*not found"):
        serve_suite_folder(state, tmp_path / "missing")
    assert "extra" in state.suite_folders


def test_check_server_with_a_suite_folder_works_when_the_service_serves_it(
    tmp_path: Path, user_suites: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_suite(tmp_path / "work" / "myfolder", "mysuite")
    proof = tmp_path / "proof.ml"
    proof.write_text("ARITH_TAC")
    monkeypatch.chdir(tmp_path / "work")
    argv = ["check", "--server", "", "--suite", "./myfolder", "--problem", "a", str(proof)]
    state = _state(user_suites)
    with served(create_app(state)) as url:
        argv[2] = url
        assert main(argv) == 2  # not started with that folder
        said = capsys.readouterr().err
        assert "start the service with --suite" in said and "Traceback" not in said and len(said.splitlines()) == 1
        serve_suite_folder(state, folder)
        assert main(argv) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.startswith("PASS")
        (folder / "problems.yaml").write_text("- {id: a, statement: F}\n")  # the client's copy differs now
        assert main(argv) == 2 and "differs here" in capsys.readouterr().err
