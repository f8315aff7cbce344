"""A template's text as a checker loads it, and the contexts a native checker has compiled in.

A template is a proof file (its includes under a root expanded, comments and
blank lines left out); positions between its lines are where a checker can
stand. A native image compiles the shared leading text of s2n-bignum's
templates (base.ml per architecture); a template starting with exactly that
text loads the compiled form in its place.
"""

from __future__ import annotations

import bisect
import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.inputs import read_text
from provebench.core.model import Problem
from provebench.systems.hol_light.source import inline, scan_file, scan_source


@dataclass(frozen=True)
class CompiledContext:
    """A trusted text a native checker has compiled in (s2n-bignum's base.ml): loaded in seconds, not minutes.

    Its image's index names it, its length in lines and the sha256 of its text; a template whose leading
    lines are exactly that text loads the compiled form in their place.
    """

    name: str
    lines: int
    sha256: str
    # The text once its hash has matched: hundreds of templates start with it, and comparing lines is far
    # cheaper than hashing them again (1.3 s for a whole s2n-bignum suite).
    _seen: list[tuple[str, ...]] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def parse_index(cls, index: str) -> tuple[CompiledContext, ...]:
        """The contexts of an image's label: "NAME LINES SHA256" each, ";"-separated."""
        out = []
        for entry in filter(None, (e.strip() for e in index.split(";"))):
            fields = entry.split()
            if len(fields) != 3 or not fields[1].isdigit() or len(fields[2]) != 64:
                raise VerifierUnavailable(f"the checker image's index of compiled contexts is unreadable: {entry!r}")
            out.append(cls(fields[0], int(fields[1]), fields[2]))
        return tuple(out)

    @property
    def directive(self) -> str:
        """The line that loads it (harness/hol_light_native/pb_native_main.ml)."""
        return f'#pb_context "{self.name}";;'

    def is_text(self, lines: Sequence[str]) -> bool:
        """Whether ``lines`` are this context's text."""
        if len(lines) != self.lines:
            return False
        if self._seen:
            return tuple(lines) == self._seen[0]
        text = "".join(line + "\n" for line in lines)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != self.sha256:
            return False
        self._seen.append(tuple(lines))
        return True


@dataclass(frozen=True)
class TemplateText:
    """A template as the checker loads it: code lines, and where the text before ends between phrases.

    Comments and blank lines are left out, which changes nothing OCaml reads, so templates that
    differ only there (s2n-bignum's file headers) share their text. Position p means the context
    ``lines[: p - 1]``; ``numbers`` are the file's line numbers of ``lines``.
    """

    path: str
    lines: tuple[str, ...]
    numbers: tuple[int, ...]
    cuts: tuple[int, ...]  # ascending positions

    @classmethod
    def of(cls, problem: Problem) -> TemplateText:
        """The template of ``problem`` (includes expanded when the suite says so)."""
        path = str(problem.template)
        root = problem.template_root
        if root is not None:
            return cls.of_file(Path(root), Path(path).relative_to(root).as_posix(), path)
        text = read_text(Path(path), "template")  # a regular file, bounded: never a FIFO that blocks a checker
        try:
            source = scan_source(text, path)
        except UserError:  # not lexable as a whole: loaded as it is, forking only at problem positions
            return cls._compact(path, tuple(text.split("\n")), set())
        return cls._compact(path, tuple(source.code.split("\n")), set(source.phrase_starts))

    @classmethod
    def of_file(cls, root: Path, rel: str, path: str | None = None) -> TemplateText:
        """The file ``rel`` under ``root`` with its includes under ``root`` expanded (named ``path``)."""
        stream = inline(root, rel, code=True)
        starts = {r: scan_file(root / r).phrase_starts for r in {r for r, _ in stream.origins}}
        cuts = {i for i, (r, line) in enumerate(stream.origins, 1) if line in starts[r]}
        return cls._compact(path or str(root / rel), stream.lines, cuts)

    @classmethod
    def admitted_prefix(cls, root: Path, rel: str) -> TemplateText:
        """``rel`` with its includes and every proof admitted.

        That is the text which templates imported from ``root`` (s2n-bignum's admitted copies) start
        with where they include ``rel`` first (base.ml).
        """
        with tempfile.TemporaryDirectory(prefix="provebench-context-") as tmp:
            for used in {r for r, _ in inline(root, rel).origins}:
                dest = Path(tmp) / used
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(scan_file(root / used).admitted(), encoding="utf-8")
            return cls.of_file(Path(tmp), rel, str(root / rel))

    @classmethod
    def _compact(cls, path: str, lines: tuple[str, ...], cuts: set[int]) -> TemplateText:
        numbers = tuple(n for n, line in enumerate(lines, 1) if line.strip())
        kept = [lines[n - 1] for n in numbers]
        return cls(path, tuple(kept), numbers, tuple(i for i, n in enumerate(numbers, 1) if n in cuts))

    def text(self) -> str:
        """The code lines as a checker is sent them, each ended."""
        return "".join(line + "\n" for line in self.lines)

    def with_compiled(self, context: CompiledContext) -> TemplateText:
        """This text with its leading lines, if they are ``context``'s text, loaded compiled instead.

        The one line that loads it is numbered as the first of them; a text not starting so is returned as is.
        """
        n = context.lines
        if n + 1 not in self.cuts or not context.is_text(self.lines[:n]):
            return self
        return TemplateText(
            self.path,
            (context.directive, *self.lines[n:]),
            (self.numbers[0], *self.numbers[n:]),
            tuple(c - n + 1 for c in self.cuts if c > n),
        )

    def chunks(self, start: int, end: int, size: int) -> list[int]:
        """Positions from ``start`` to ``end`` (the last), about ``size`` lines apart, each between phrases."""
        out = []
        at = start
        while end - at > size:
            i = bisect.bisect_right(self.cuts, at + size) - 1
            if i < 0 or self.cuts[i] <= at:
                break
            at = self.cuts[i]
            out.append(at)
        return [*out, end]

    def position(self, line: int) -> int:
        """The position of the file's line ``line``: after the code lines before it."""
        return bisect.bisect_left(self.numbers, line) + 1

    def line(self, position: int) -> int:
        """The file's line number at ``position`` (one past the last line at the end)."""
        return self.numbers[position - 1] if position <= len(self.numbers) else (self.numbers or (0,))[-1] + 1

    def cut_at_or_below(self, position: int) -> int:
        """The last position not after ``position`` where the checker may stop (1 if none)."""
        i = bisect.bisect_right(self.cuts, position)
        return self.cuts[i - 1] if i else 1


def compiled_context_text(root: Path, rel: str) -> str:
    """What a native image compiles for its context ``rel`` of the source ``root`` (``containers.build_context``)."""
    return TemplateText.admitted_prefix(root, rel).text()
