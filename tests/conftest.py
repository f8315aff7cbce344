"""Shared fixtures. Tests marked ``docker`` run real HOL Light in real containers.

Without a component a test needs (the Docker engine, kimina-client, Chromium, Ray) the test is skipped
with that reason, except under ``PROVEBENCH_TEST_STRICT=1`` (``make test``, hence CI): there a missing
component fails the run, so that CI cannot pass by skipping. Only what cannot exist on these machines
(the Lean image, a live API, the host's own HOL Light, data kept outside the repository) may skip there.
Each run ends with the count of skips by reason.

HOL Light checks run on native checkers unless a test asks for bytecode: the two builds give the same
verdicts (the tests parametrized over ``each_hol_verifier`` and the template tests show it on both), and
a native checker is ready in about 13 s against 80 s. ``PROVEBENCH_CHECKER_BUILD`` set outside wins,
and reaches the CLI and service processes tests start.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

import pytest

from provebench.core.model import Problem, System, Verdict
from provebench.core.proof_states import LiveSession, StepOutcome
from provebench.core.settings import CheckerBuild, Settings
from provebench.core.verifier import Verifier
from provebench.suites.load import Suite, find_suite
from provebench.systems.hol_light.verifier import HolLightVerifier, make_hol_light_verifier
from tests.components import STRICT

os.environ.setdefault("PROVEBENCH_CHECKER_BUILD", CheckerBuild.NATIVE.value)


@lru_cache(maxsize=1)
def docker_unavailable_reason() -> str | None:
    try:
        import docker

        docker.from_env(timeout=10).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no engine
        return f"no Docker engine answers ({type(exc).__name__}); `make test` starts one"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any("docker" in item.keywords for item in items) or (reason := docker_unavailable_reason()) is None:
        return
    if STRICT:
        pytest.exit(f"required component missing: Docker engine: {reason}", returncode=1)
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The skips by reason, so a run that checked less than it seems to says so in its last lines."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reasons[str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)] += 1
    if reasons:
        terminalreporter.write_sep("-", f"skips by reason ({sum(reasons.values())})")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"{count:5d}  {reason.removeprefix('Skipped: ')}")


_reply_caches = itertools.count()


@pytest.fixture(autouse=True)
def _own_reply_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's reply cache, nor another test's (a cached reply asks no double)."""
    folder = tmp_path_factory.getbasetemp() / "replies" / str(next(_reply_caches))  # made by the first reply
    monkeypatch.setenv("PROVEBENCH_REPLY_CACHE_DIR", str(folder))


@pytest.fixture(scope="session")
def session_settings() -> Settings:
    # The values tests depend on are set here (PROVEBENCH_* still applies to the rest);
    # a smaller memory cap keeps the memory-exhaustion cases quick.
    return Settings(memory_mb=2048, checkers=1, apt_ignore_valid_until=True)  # the build: from the environment


@pytest.fixture(scope="session")
def settings(session_settings: Settings) -> Settings:
    """The settings tests use (a module may override this fixture; the session's checkers keep theirs)."""
    return session_settings


@pytest.fixture(scope="session")
def core_suite(session_settings: Settings) -> Suite:
    return find_suite("hol-light-core", session_settings.suites_dir)


@pytest.fixture(scope="session")
def hol_verifier(session_settings: Settings) -> Iterator[HolLightVerifier]:
    """One warm HOL Light checker in a container (native, unless the environment says otherwise), shared."""
    verifier = make_hol_light_verifier(session_settings)
    verifier.prepare()
    yield verifier
    verifier.close()


def _build_of(settings: Settings, build: CheckerBuild) -> Iterator[HolLightVerifier]:
    """A second warm checker, of the build the session's own is not."""
    verifier = make_hol_light_verifier(settings.model_copy(update={"checker_build": build}))
    verifier.prepare()
    yield verifier
    verifier.close()


@pytest.fixture(scope="session")
def bytecode_verifier(session_settings: Settings, request: pytest.FixtureRequest) -> Iterator[HolLightVerifier]:
    """One warm bytecode HOL Light checker (the hol-light image), shared by the whole session."""
    if session_settings.checker_build in (None, CheckerBuild.BYTECODE):
        yield request.getfixturevalue("hol_verifier")
        return
    yield from _build_of(session_settings, CheckerBuild.BYTECODE)


@pytest.fixture(scope="session")
def native_verifier(session_settings: Settings, request: pytest.FixtureRequest) -> Iterator[HolLightVerifier]:
    """One warm native-code HOL Light checker (the hol-light-native image), shared by the whole session."""
    if session_settings.checker_build is CheckerBuild.NATIVE:
        yield request.getfixturevalue("hol_verifier")
        return
    yield from _build_of(session_settings, CheckerBuild.NATIVE)


@pytest.fixture(scope="session", params=[CheckerBuild.BYTECODE, CheckerBuild.NATIVE], ids=lambda b: b.value)
def each_hol_verifier(request: pytest.FixtureRequest) -> HolLightVerifier:
    """The session's bytecode checker, then its native one: tests that both builds must pass."""
    name = "native_verifier" if request.param is CheckerBuild.NATIVE else "bytecode_verifier"
    verifier: HolLightVerifier = request.getfixturevalue(name)
    return verifier


class SharedVerifier(Verifier):
    """Lends the session's warm checker to a run without letting the run close it."""

    system = System.HOL_LIGHT

    def __init__(self, inner: HolLightVerifier) -> None:
        self.inner = inner
        self.checker = inner.checker

    def prepare(self) -> None:
        self.inner.prepare()

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        return self.inner.check(problem, proof, timeout_s)

    def open_session(self, problem: Problem, timeout_s: float | None = None) -> tuple[LiveSession | None, StepOutcome]:
        return self.inner.open_session(problem, timeout_s)

    def close(self) -> None:
        pass  # the session fixture closes the real checker


@pytest.fixture(scope="session")
def shared_verifier_factory(hol_verifier: HolLightVerifier) -> Callable[[Settings, Sequence[Problem]], Verifier]:
    """A run's verifier factory that hands out the session's warm checker."""
    return lambda _settings, _problems: SharedVerifier(hol_verifier)


@pytest.fixture(scope="session")
def shared_bytecode_verifier_factory(
    bytecode_verifier: HolLightVerifier,
) -> Callable[[Settings, Sequence[Problem]], Verifier]:
    """A run's verifier factory that hands out the session's warm bytecode checker."""
    return lambda _settings, _problems: SharedVerifier(bytecode_verifier)


@pytest.fixture
def shared_native_verifier_factory(
    native_verifier: HolLightVerifier,
) -> Callable[[Settings, Sequence[Problem]], Verifier]:
    """A run's verifier factory that hands out the session's warm native checker."""
    return lambda _settings, _problems: SharedVerifier(native_verifier)
