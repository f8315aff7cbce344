"""The background threads that start warm checkers, and waiting for them on the way out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# How long close() waits for starting checkers to remove their containers. A starter that is still
# making its container when close() runs removes it itself once made; the process must not exit first.
STARTER_EXIT_S = 30.0


class Starters:
    """Starts checker-loading threads and remembers the live ones; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, target: Callable[[], None]) -> threading.Thread:
        """Run ``target`` in a daemon thread (one still loading must not keep the process alive)."""
        thread = threading.Thread(target=target, daemon=True)
        with self._lock:  # started before wait() can see it: a thread not yet started cannot be joined
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        return thread

    def wait(self, timeout_s: float = STARTER_EXIT_S) -> None:
        """Wait up to ``timeout_s`` in all for the started threads to end (not for the calling one)."""
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout_s
        for t in threads:
            if t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))
