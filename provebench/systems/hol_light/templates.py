"""Template contexts: where a checker holds problem positions and where it forks walkers.

A template is a proof file; a problem's context is the template's lines
before the problem's line (s2n-bignum: with earlier proofs admitted). The
templates of a suite share long leading text (every arm proof file starts
with base.ml inlined), so a checker walks shared text once. The process at a
branch point (where templates part) forks a walker that goes on into one
template and waits there; the next template that branches off at that point
starts a new walker from it, without reloading what came before.

Along the way the walker leaves a holder (a fork) at each problem position,
so checks fork from the exact context of their problem. Holders are keyed by
the text before them, so one holder serves every template sharing that text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem
from provebench.systems.hol_light.template_text import CompiledContext, TemplateText

ROOT_FORK = "root"
CHUNK_LINES = 500  # template text sent to the checker per request
# Walks of large templates take many minutes between verdicts; this says where they are (the CLI shows it).
_log = logging.getLogger("provebench.checkers")


class TemplateLoadError(VerifierUnavailable):
    """A template's trusted text does not load: its problems cannot be checked, others can."""


@dataclass(frozen=True)
class Stop:
    """A position on a template's walk: leave a holder there, fork a walker there, or both."""

    position: int
    hold: str | None = None
    fork: str | None = None


@dataclass(frozen=True)
class TemplateRoute:
    """How a checker walks one template: the stops after its first line, ascending."""

    path: str
    text_of: TemplateText
    stops: tuple[Stop, ...]
    forks: dict[str, int] = field(default_factory=dict)  # fork id -> position, with ROOT_FORK at 1

    def text(self, start: int, end: int) -> str:
        """The lines from position ``start`` up to (not including) position ``end``."""
        return "\n".join(self.text_of.lines[start - 1 : end - 1])


class TemplateForest:
    """The routes of every template of a group of problems, sharing holders and forks where texts agree."""

    def __init__(self, problems: Sequence[Problem], compiled: Sequence[CompiledContext] = ()) -> None:
        texts: dict[str, TemplateText] = {}
        lines: dict[str, set[int]] = {}
        for p in problems:
            if p.template is None or p.template_line is None:
                raise ValueError("a template forest needs problems with templates")
            if p.template not in texts:
                texts[p.template] = TemplateText.of(p)
                lines[p.template] = set()
            lines[p.template].add(p.template_line)
        positions: dict[str, set[int]] = {}
        for t, text in texts.items():
            # A compiled context stands for its text only where no problem of the template lies inside it.
            for context in compiled:
                shorter = text.with_compiled(context)
                if shorter is not text and min(lines[t]) > text.line(context.lines):
                    texts[t] = shorter
            positions[t] = {texts[t].position(line) for line in lines[t]}
        self.paths = tuple(texts)  # in the order problems named them
        # Sorted by text, the templates sharing a prefix are neighbours, and the
        # common prefix of any two is the least of the neighbours' between them.
        self._order = sorted(self.paths, key=lambda t: texts[t].lines)
        self._index = {t: i for i, t in enumerate(self._order)}
        self._adjacent = [
            _common_lines(texts[a].lines, texts[b].lines) for a, b in zip(self._order, self._order[1:], strict=False)
        ]
        self._keys: dict[tuple[str, int], str] = {}
        self._positions: dict[tuple[str, int], int] = {}
        self.routes = {t: self._route(t, texts, positions) for t in self.paths}

    @property
    def compiled_routes(self) -> int:
        """How many templates load a compiled context in place of their leading text."""
        firsts = [r.text_of.lines[0] for r in self.routes.values() if r.text_of.lines]
        return sum(1 for line in firsts if line.startswith("#pb_context "))

    def _common(self, a: str, b: str) -> int:
        i, j = sorted((self._index[a], self._index[b]))
        return min(self._adjacent[i:j]) if i != j else 1 << 62

    def shared_with(self, template: str) -> dict[str, int]:
        """How many leading lines each template has in common with ``template`` (all of its own for itself)."""
        i = self._index[template]
        out = {template: len(self.routes[template].text_of.lines)}
        common = out[template]
        for j in range(i - 1, -1, -1):  # the common prefix shrinks with distance in text order
            common = min(common, self._adjacent[j])
            out[self._order[j]] = common
        common = out[template]
        for j in range(i + 1, len(self._order)):
            common = min(common, self._adjacent[j - 1])
            out[self._order[j]] = common
        return out

    def _id(self, template: str, position: int) -> str:
        """Names the text before ``position``: the first template (in text order) that shares it, and where."""
        i = self._index[template]
        while i > 0 and self._adjacent[i - 1] >= position - 1:
            i -= 1
        return f"{i}.{position}"

    def _route(self, t: str, texts: dict[str, TemplateText], positions: dict[str, set[int]]) -> TemplateRoute:
        text = texts[t]
        holds: set[int] = set()
        forks: set[int] = set()
        for u in self.paths:
            common = self._common(t, u)
            # Every template's problems in the text this one shares with it: held on this walk too.
            holds.update(q for q in positions[u] if q - 1 <= common)
            if u != t:
                forks.add(text.cut_at_or_below(common + 1))
        forks.discard(1)
        stops = []
        for q in sorted(holds | forks):
            stops.append(
                Stop(q, hold=self._id(t, q) if q in holds else None, fork=self._id(t, q) if q in forks else None)
            )
        for q in positions[t]:
            self._keys[(t, text.line(q))] = self._id(t, q)
            self._positions[(t, text.line(q))] = q
        fork_ids = {ROOT_FORK: 1} | {s.fork: s.position for s in stops if s.fork is not None}
        return TemplateRoute(path=t, text_of=text, stops=tuple(stops), forks=fork_ids)

    def key(self, problem: Problem) -> str | None:
        """The holder key of a problem's position, or None if this forest does not hold it."""
        return self._keys.get((problem.template or "", problem.template_line or 0))

    def position(self, problem: Problem) -> int:
        """A problem's position in its template's route."""
        return self._positions[(problem.template or "", problem.template_line or 0)]


def _common_lines(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class SeekResult(Protocol):
    """The outcome of loading a slice of template text."""

    ok: bool
    error: str


class WalkingSession(Protocol):
    """What walking needs of a checker session (``HolLightSession``)."""

    def seek(self, text: str, timeout_s: float) -> SeekResult:
        """Evaluate trusted text in the current process."""
        ...

    def hold(self, key: str) -> None:
        """Leave a holder at the current position."""
        ...

    def walk(self) -> None:
        """Fork a walker; the current process waits at its position."""
        ...

    def drop(self, key: str) -> None:
        """End the holder at ``key`` (one the current process left)."""
        ...

    def end_walk(self) -> None:
        """End the current walker; its parent serves again."""
        ...


@dataclass
class WalkState:
    """Where one checker is: its walkers (bottom first), where the top one stands, and its holders.

    A walker goes forward only as far as the check at hand needs, and serves that
    check itself. It leaves a few holders behind it (``max_holders``, the newest
    kept), for checks that come a little out of order; a check further back starts
    a new walker from the deepest fork point before it. So memory is bounded by
    the walkers on the stack and the holders, however many problems a template has:
    each holder keeps its own copy of every page the walker changes after it.
    """

    stack: list[tuple[str, int]] = field(default_factory=list)  # (fork id, position) each walker started at
    held: dict[str, int] = field(default_factory=dict)  # holder key -> depth of the process that forked it
    template: str | None = None  # the template the top walker is in
    position: int = 1  # where the top walker stands in it
    max_holders: int = 4

    def pop_to(self, session: WalkingSession, depth: int) -> None:
        """End walkers until ``depth`` remain; their holders end with them."""
        while len(self.stack) > depth:
            session.end_walk()
            self.stack.pop()
        self.held = {k: d for k, d in self.held.items() if d <= depth}
        self.template = None

    def reusable(self, route: TemplateRoute, target: int) -> int:
        """How far toward ``target`` in ``route`` this checker stands already: where a walk there goes on from."""
        if self.template == route.path and self.position <= target:
            return self.position
        keep = self._deepest_fork(route, target)
        return self.stack[keep][1] if keep >= 0 else 1

    def _deepest_fork(self, route: TemplateRoute, target: int) -> int:
        """The index in ``stack`` of the deepest walker started at a fork point of ``route`` not after ``target``."""
        shared = [i for i, (fork, pos) in enumerate(self.stack) if route.forks.get(fork) == pos and pos <= target]
        return max(shared, default=-1)

    def reach(
        self, session: WalkingSession, route: TemplateRoute, target: int, key: str, load_timeout_s: float
    ) -> str | None:
        """Make position ``target`` of ``route`` checkable.

        Returns the key of a holder there, or None when the top walker stands
        there and checks from where it is.
        """
        if key in self.held:
            return key
        if self.template != route.path or self.position > target:
            self._restart(session, route, target)
        try:
            self._advance(session, route, target, load_timeout_s)
        except TemplateLoadError:
            self.pop_to(session, 0)
            raise
        return None

    def _restart(self, session: WalkingSession, route: TemplateRoute, target: int) -> None:
        """A new walker from the deepest fork point of ``route`` at or before ``target`` (its parent waits there)."""
        keep = self._deepest_fork(route, target)
        fork, start = self.stack[keep] if keep >= 0 else (ROOT_FORK, 1)
        self.pop_to(session, max(keep, 0))
        session.walk()
        self.stack.append((fork, start))
        self.template, self.position = route.path, start

    def _advance(self, session: WalkingSession, route: TemplateRoute, target: int, load_timeout_s: float) -> None:
        for stop in route.stops:
            if stop.position <= self.position or stop.position > target:
                continue
            self._hold_here(session, route)  # leaving a problem's position: keep a holder there
            # In chunks that end between phrases: a proof file's own part can take many minutes (s2n-bignum's,
            # proofs admitted: machine-code decoding), and a chunk keeps each reply's output and a load
            # error's line range small.
            for end in route.text_of.chunks(self.position, stop.position, CHUNK_LINES):
                loaded = session.seek(route.text(self.position, end), load_timeout_s)
                if not loaded.ok:
                    first, last = route.text_of.line(self.position), route.text_of.line(end) - 1
                    raise TemplateLoadError(
                        f"{route.path}: lines {first}-{last} do not load in the checker: {loaded.error.strip()}"
                    )
                self.position = end
                _log.info(
                    "%s: loaded to line %d on the way to line %d",
                    route.path.rsplit("/templates/", 1)[-1],
                    route.text_of.line(end) - 1,
                    route.text_of.line(target),
                )
            if stop.fork is not None and self.stack[-1][1] != stop.position:
                session.walk()
                self.stack.append((stop.fork, stop.position))

    def _hold_here(self, session: WalkingSession, route: TemplateRoute) -> None:
        """Before moving on from a problem's position, leave a holder there (the newest few are kept)."""
        stop = next((s for s in route.stops if s.position == self.position), None)
        if stop is None or stop.hold is None or stop.hold in self.held or self.max_holders <= 0:
            return
        depth = len(self.stack)
        if len(self.held) >= self.max_holders:
            # Only the top walker's own holders can be dropped: an ancestor's stay until its walker ends.
            own = [k for k, d in self.held.items() if d == depth]
            if not own:
                return
            session.drop(own[0])
            del self.held[own[0]]
        session.hold(stop.hold)
        self.held[stop.hold] = depth
