"""One verifier per context for a run whose problems do not all share one (s2n-bignum's templates).

Verifiers start on first use and at most ``max_warm`` stay loaded: the least
recently used idle one is stopped to make room. Runs order their work by
context, so each context is normally loaded once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence

from provebench.model import Problem, Verdict
from provebench.settings import Settings
from provebench.verify.api import Verifier, context_key, make_group_verifier

GroupFactory = Callable[[Sequence[Problem], Settings], Verifier]


class ContextRouter(Verifier):
    """Routes each check to the verifier of its problem's context."""

    def __init__(
        self,
        problems: Sequence[Problem],
        settings: Settings,
        factory: GroupFactory = make_group_verifier,
        max_warm: int = 1,
    ) -> None:
        self.system = problems[0].system
        self._groups: dict[tuple[str, str, str], list[Problem]] = defaultdict(list)
        for p in problems:
            self._groups[context_key(p)].append(p)
        self._settings = settings
        self._factory = factory
        self.max_warm = max(1, max_warm)
        self._warm: OrderedDict[tuple[str, str, str], Verifier] = OrderedDict()
        self._busy: dict[tuple[str, str, str], int] = defaultdict(int)
        self._lock = threading.Lock()
        self._first = context_key(problems[0])

    def prepare(self) -> None:
        """Start the first context's checkers, so that the checker's identity is known."""
        verifier = self._acquire(self._first)
        self._release(self._first)
        self.checker = verifier.checker

    def _acquire(self, key: tuple[str, str, str]) -> Verifier:
        with self._lock:
            if key in self._warm:
                self._warm.move_to_end(key)
            else:
                idle = [k for k in self._warm if self._busy[k] == 0]
                while len(self._warm) >= self.max_warm and idle:
                    self._warm.pop(idle.pop(0)).close()
                verifier = self._factory(self._groups[key], self._settings)
                verifier.prepare()
                self._warm[key] = verifier
            self._busy[key] += 1
            return self._warm[key]

    def _release(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._busy[key] -= 1

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check on the verifier of the problem's context (started if needed)."""
        key = context_key(problem)
        verifier = self._acquire(key)
        try:
            return verifier.check(problem, proof, timeout_s)
        finally:
            self._release(key)

    def close(self) -> None:
        """Stop every warm verifier."""
        with self._lock:
            warm, self._warm = list(self._warm.values()), OrderedDict()
        for v in warm:
            v.close()
