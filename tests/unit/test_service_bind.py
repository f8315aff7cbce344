"""A service on anything but loopback needs a bearer token: refused in one line before anything starts.

No Docker: the refusal comes before any checker or socket (the routes' token checks are in test_service_api).
"""

from __future__ import annotations

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.service.server import ServeOptions, is_loopback, service_token


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host) and service_token(ServeOptions(host=host)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "2001:db8::1", "example.org", "localhost.example.org"])
def test_any_other_host_needs_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(UserError, match=f"serving on {host} needs --token-env VAR"):
        service_token(ServeOptions(host=host))


def test_the_token_is_read_from_its_variable_and_an_empty_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PB_TOKEN", "  s3cret\n")
    assert service_token(ServeOptions(host="0.0.0.0", token_env="PB_TOKEN")) == "s3cret"
    for value in ("", "  \n"):
        monkeypatch.setenv("PB_TOKEN", value)
        with pytest.raises(UserError, match="PB_TOKEN: that environment variable is empty or not set"):
            service_token(ServeOptions(host="0.0.0.0", token_env="PB_TOKEN"))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--host", "0.0.0.0"], "serving on 0.0.0.0 needs --token-env VAR"),
        (["--host", "0.0.0.0", "--token-env", "PB_UNSET_TOKEN"], "PB_UNSET_TOKEN: that environment variable is"),
    ],
)
def test_serve_refuses_in_one_line_before_starting_anything(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PB_UNSET_TOKEN", raising=False)
    assert main(["serve", "--port", "9", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
