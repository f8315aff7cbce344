"""Run by .venv-kimina's interpreter: CombiBench's own, unmodified Lean4Client against a server.

The client is imported from a CombiBench checkout (``evaluation/client/lean_client.py``); nothing of it is
copied here. stdin: ``{"src", "url", "key", "codes": {name: lean file}, "timeout"}``.
stdout, last line: ``{name: [valid, result]}`` as the client's module-level ``verify`` judges each file
(``valid`` is CombiBench's verdict: no ``error``, no error message, no "declaration uses 'sorry'").
"""

import json
import sys
from pathlib import Path


def main() -> None:
    ask = json.load(sys.stdin)
    sys.path.insert(0, str(Path(ask["src"]) / "evaluation" / "client"))
    import lean_client  # noqa: PLC0415 - from the checkout named on stdin

    client = lean_client.Lean4Client(url=ask["url"], api_key=ask["key"])  # asks GET / first
    out = {name: list(lean_client.verify(code, client, timeout=ask["timeout"])) for name, code in ask["codes"].items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
