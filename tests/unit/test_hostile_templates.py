"""Templates cannot run code (defect 6 of issue 30): prompt templates and the report and board pages
render in Jinja2's sandbox, and prompt templates are read as bounded regular files.

Before: ``{{ lipsum.__globals__['os'].popen('id').read() }}`` in a ``prompt_dir`` template ran a shell
command during a run. Each payload here would create a marker file if it ran.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provebench.boards import pages
from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.model import Problem, System
from provebench.provers.prompting import PromptTemplates

PROBLEM = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="!n. n + 0 = n", timeout_s=5, checker_image="x")


def _payloads(marker: Path) -> list[str]:
    """Ways out of a plain Jinja2 environment into Python, each touching ``marker``."""
    touch = f"touch {marker}"
    return [
        "{{ lipsum.__globals__['os'].popen('" + touch + "').read() }}",
        "{{ cycler.__init__.__globals__.os.popen('" + touch + "').read() }}",
        "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.popen('" + touch + "').read() }}",
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
        "{{ c(['touch', '" + str(marker) + "']) }}{% endif %}{% endfor %}",
        "{{ problem.statement.__class__.__mro__ }}",
    ]


def _prompt_folder(root: Path, user: str) -> Path:
    folder = root / "prompts" / "hol-light"
    folder.mkdir(parents=True)
    (folder / "system.j2").write_text("You prove things.")
    (folder / "user.j2").write_text(user)
    return root / "prompts"


@pytest.mark.parametrize("which", range(5))
def test_a_prompt_template_cannot_reach_python(tmp_path: Path, which: int) -> None:
    marker = tmp_path / "ran"
    prompts = _prompt_folder(tmp_path, _payloads(marker)[which])
    templates = PromptTemplates.for_system(System.HOL_LIGHT, prompts)
    with pytest.raises(UserError, match=r"user.j2: refused: .*unsafe") as exc:
        templates.render(PROBLEM, ())
    assert "\n" not in str(exc.value)
    assert not marker.exists()


def test_a_run_with_a_hostile_prompt_folder_stops_in_one_line_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    prompts = _prompt_folder(tmp_path, _payloads(marker)[0])
    config = tmp_path / "run.yaml"
    prover = {"name": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1", "prompt_dir": str(prompts)}
    config.write_text(yaml.safe_dump({"suite": "hol-light-core", "prover": prover}))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    out = tmp_path / "run"
    code = main(["run", "--config", str(config), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "user.j2: refused: " in lines[0] and "Traceback" not in err, err
    assert not marker.exists() and not out.exists()


def test_template_faults_are_one_line_errors(tmp_path: Path) -> None:
    for n, (user, said) in enumerate(
        [
            ("{{ 1 // 0 }}", "template error: ZeroDivisionError"),
            ('{% include "../../outside.j2" %}', "template error: TemplateNotFound"),
            ("{{ problem.nothing }}", "template uses an unknown value"),
            ("{% for i in range(10 ** 9) %}{% endfor %}", "template error: OverflowError: Range too big"),
        ]
    ):
        templates = PromptTemplates.for_system(System.HOL_LIGHT, _prompt_folder(tmp_path / str(n), user))
        with pytest.raises(UserError, match=rf"user.j2: {said}") as exc:
            templates.render(PROBLEM, ())
        assert "\n" not in str(exc.value)


def test_includes_within_the_prompt_folder_still_work(tmp_path: Path) -> None:
    prompts = _prompt_folder(tmp_path, '{% include "parts/goal.j2" %}')
    (prompts / "hol-light" / "parts").mkdir()
    (prompts / "hol-light" / "parts" / "goal.j2").write_text("Prove `{{ problem.statement }}`.")
    assert PromptTemplates.for_system(System.HOL_LIGHT, prompts).render(PROBLEM, ()).user == "Prove `!n. n + 0 = n`."


def test_a_prompt_template_that_is_a_device_is_refused(tmp_path: Path) -> None:
    prompts = _prompt_folder(tmp_path, "")
    (prompts / "hol-light" / "user.j2").unlink()
    (prompts / "hol-light" / "user.j2").symlink_to("/dev/zero")  # was read until memory ran out
    with pytest.raises(UserError, match="user.j2: not a regular file"):
        PromptTemplates.for_system(System.HOL_LIGHT, prompts)


@pytest.mark.parametrize("which", range(5))
def test_report_and_board_pages_render_in_the_sandbox(tmp_path: Path, which: int) -> None:
    from jinja2.exceptions import SecurityError

    marker = tmp_path / "ran"
    env = pages._env()
    with pytest.raises(SecurityError):
        env.from_string(_payloads(marker)[which]).render(problem={"statement": "x"})
    assert not marker.exists()
    # The pages' own templates load in that environment.
    assert env.get_template("report.html.j2").environment is env and env.get_template("board.html.j2")
