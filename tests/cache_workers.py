"""Processes that write the reply cache, for the tests of two writers at once and of a writer killed mid-write.

Importable by name (``tests.cache_workers``), so that ``multiprocessing`` can start them in fresh interpreters
and ``python -m tests.cache_workers`` can run a writer to be killed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from provebench.provers.reply_cache import ReplyCache

KEYS = 40


def request(key: int) -> dict[str, Any]:
    """The request of key number ``key``."""
    return {"model": "m", "messages": [{"role": "user", "content": f"problem {key}"}], "temperature": 0.7}


def reply(key: int, writer: str, size: int) -> dict[str, Any]:
    """``writer``'s reply for key ``key``: ``size`` characters, so that a write takes a while."""
    return {"raw_reply": f"{writer}:{key}:" + writer * size, "tokens_out": size}


def write_and_read(folder: str, writer: str, size: int, rounds: int) -> int:
    """Write every key ``rounds`` times, reading every key after each write; the reads that were not whole replies."""
    cache = ReplyCache(Path(folder))
    bad = 0
    for _ in range(rounds):
        for key in range(KEYS):
            cache.put(request(key), 0, reply(key, writer, size))
            for other in range(KEYS):
                got = cache.get(request(other), 0)
                if got is not None and got not in (reply(other, "A", size), reply(other, "B", size)):
                    bad += 1
    return bad


def main() -> None:
    """Write large entries in a loop until killed: ``python -m tests.cache_workers FOLDER SIZE``."""
    cache = ReplyCache(Path(sys.argv[1]))
    size = int(sys.argv[2])
    n = 0
    while True:
        key = n % 4
        cache.put(request(key), 0, reply(key, "A", size))
        n += 1


if __name__ == "__main__":
    main()
