"""Run by a Python 3.12+ interpreter with the real ``kimina-client`` installed (.venv-kimina): Kimina's own
client against a server, its answers printed as JSON for tests/unit/test_kimina_api.py to judge.

stdin: ``{"url", "key", "snippets": [{"id", "code"}], "timeout", "client": "sync" | "async" | "health" | "test"}``
("test" runs the client's own self-test, ``#check Nat`` with Lean's exact reply).
stdout: ``[{"id", "status" (the client's own analysis), "error", "response"}]``, or the health answer.
"""

import asyncio
import json
import sys

from kimina_client import AsyncKiminaClient, KiminaClient
from kimina_client.models import Snippet


def main() -> None:
    ask = json.load(sys.stdin)
    snippets = [Snippet(id=s["id"], code=s["code"]) for s in ask.get("snippets", [])]
    if ask["client"] == "health":
        print(json.dumps(KiminaClient(api_url=ask["url"], api_key=ask["key"], n_retries=1).health()))
        return
    if ask["client"] == "test":
        KiminaClient(api_url=ask["url"], api_key=ask["key"], n_retries=1).test()  # asserts Lean's own reply
        print(json.dumps({"test": "passed"}))
        return
    if ask["client"] == "async":
        client = AsyncKiminaClient(api_url=ask["url"], api_key=ask["key"], n_retries=1)
        reply = asyncio.run(client.check(snippets, timeout=ask["timeout"], show_progress=False))
    else:
        client = KiminaClient(api_url=ask["url"], api_key=ask["key"], n_retries=1)
        reply = client.check(snippets, timeout=ask["timeout"], show_progress=False)
    out = [
        {"id": r.id, "status": r.analyze().status.value, "error": r.error, "response": r.response}
        for r in reply.results
    ]
    print(json.dumps(out))  # last line: the client logs to stdout too


if __name__ == "__main__":
    main()
