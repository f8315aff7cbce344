"""Suite folders that keep a prompt file of the kind s2n-bignum-bench's import copies, for the tests.

The prompt text is written here, in the benchmark's format (instructions, then the query in a code fence where
its ``{query.txt}`` placeholder stands): never the benchmark's own text, which the project does not hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROMPT_NAME = "prompt-basic.txt"
PLACEHOLDER = "{query.txt}"
PROMPT = (
    f"Prove the HOL Light goal below. Answer with tactics only, joined by THEN.\n\n<Query>\n\n```\n{PLACEHOLDER}\n```\n"
)
# A quoted goal with the benchmark's own query, and a goal the checker computes (sent as the expression).
PROBLEMS: list[dict[str, Any]] = [
    {"id": "ADD_SYM_GOAL", "statement": "!m n. m + n = n + m", "original_statement": "(`!m n. m + n = n + m`)"},
    {"id": "COMPUTED", "statement": "(rand o concl o NUM_REDUCE_CONV) `2 + 2`", "statement_is_expression": True},
]
QUERIES = {"ADD_SYM_GOAL": "(`!m n. m + n = n + m`)", "COMPUTED": "(rand o concl o NUM_REDUCE_CONV) `2 + 2`"}


def prompt_suite(
    folder: Path,
    prompt: str | bytes | None = PROMPT,
    problems: list[dict[str, Any]] | None = None,
    declared: tuple[str, ...] = (PROMPT_NAME,),
    **manifest: Any,
) -> Path:
    """A HOL Light suite folder keeping ``prompt`` as ``prompts/prompt-basic.txt`` (None: no such file)."""
    folder.mkdir(parents=True)
    if prompt is not None:
        (folder / "prompts").mkdir()
        data = prompt.encode() if isinstance(prompt, str) else prompt
        (folder / "prompts" / PROMPT_NAME).write_bytes(data)
    fields = {
        "name": "s2n-bignum",
        "system": "hol-light",
        "version": "test",
        "checker_image": "hol-light",
        "problems_file": "problems.yaml",
        **({"prompts": list(declared)} if declared else {}),
        **manifest,
    }
    (folder / "suite.yaml").write_text(yaml.safe_dump(fields))
    (folder / "problems.yaml").write_text(yaml.safe_dump(PROBLEMS if problems is None else problems))
    return folder
