"""Lean text as the comparator double reads it: comments, string literals, whitespace, brackets, and names
(printed as Lean prints them, resolved in namespaces and ``open``s as Lean looks them up).

Helpers of tests/doubles/comparator_decls.py, parts of a TEST DOUBLE (see tests/doubles/comparator.py).
"""

from __future__ import annotations

import re

IDENT = re.compile(r"«[^»]+»(?:\.«[^»]+»)*|[^\W\d][\w'!?₀-₉]*(?:\.[^\W\d][\w'!?₀-₉]*)*")


def strip_comments(text: str) -> str:
    """Drop ``--`` and (nested) ``/- -/`` comments, docstrings included; string literals and newlines stay."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/-", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/-", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("-/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
            out.append(" ")
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mask_strings(text: str) -> str:
    """The text with each string literal's content blanked (same length), for scanning."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)


def squeeze(text: str) -> str:
    """Whitespace collapsed, and none just inside brackets."""
    text = " ".join(text.split())
    text = re.sub(r"([(\[{⦃⟨])\s+", r"\1", text)
    return re.sub(r"\s+([)\]}⦄⟩])", r"\1", text)


def plain_name(name: str) -> str:
    return name.replace("«", "").replace("»", "").removeprefix("_root_.")


def lean_name(name: str) -> str:
    """A name as Lean's ``Name.toString`` prints it: components that are not identifiers in «»."""
    parts = name.split(".")
    return ".".join(p if re.fullmatch(r"[^\W\d][\w'!?₀-₉]*", p) else f"«{p}»" for p in parts)


def top_level_stop(masked: str, start: int, stops: tuple[str, ...]) -> int:
    """The index of the first of ``stops`` (":=", "where", "|", "\\n|") outside brackets, or len(masked)."""
    depth = 0
    i = start
    while i < len(masked):
        c = masked[i]
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(0, depth - 1)
        elif depth == 0:
            if ":=" in stops and masked.startswith(":=", i):
                return i
            if (
                "where" in stops
                and masked.startswith("where", i)
                and not _ident(masked[i - 1 : i] + masked[i + 5 : i + 6])
            ):
                return i
            if "|" in stops and c == "|":
                return i
            if "\n|" in stops and c == "\n" and re.match(r"\n[ \t]*\|", masked[i:]):
                return i
        i += 1
    return len(masked)


def _ident(chars: str) -> bool:
    return any(c.isalnum() or c in "_'!?." for c in chars)


def instance_name(header: str) -> str:
    """Roughly Lean's name for an anonymous instance: ``inst`` and the constants of its class, capitalized
    (``instance : Inhabited (List Nat)`` is ``instInhabitedListNat``)."""
    masked = mask_strings(header)
    bound: set[str] = set()
    depth, start, conclusion = 0, 0, ""
    for i, c in enumerate(masked):
        if c in "([{⦃⟨":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(0, depth - 1)
            if depth == 0 and ":" in masked[start:i]:
                bound.update(masked[start:i].split(":", 1)[0].split())
        elif c == ":" and depth == 0:
            conclusion = masked[i + 1 :]
            break
    parts = [t.split(".")[-1] for t in IDENT.findall(conclusion) if t not in bound]
    return "inst" + "".join(p[:1].upper() + p[1:] for p in parts)


def resolve_all(text: str, namespaces: list[str], opens: list[str], names: dict[str, str]) -> list[str]:
    found: list[str] = []
    for token in IDENT.findall(mask_strings(text)):
        r = resolve(plain_name(token), namespaces, opens, names)
        if r is not None and r not in found:
            found.append(r)
    return found


def resolve(token: str, namespaces: list[str], opens: list[str], names: dict[str, str]) -> str | None:
    """The declaration a name in the text means, as Lean would look it up (a trailing field access dropped)."""
    parts = token.split(".")
    for k in range(len(parts), 0, -1):
        head = ".".join(parts[:k])
        for i in range(len(namespaces), -1, -1):
            candidate = ".".join([*namespaces[:i], head])
            if candidate in names:
                return names[candidate]
        for o in opens:
            if f"{o}.{head}" in names:
                return names[f"{o}.{head}"]
    return None


def opened_names(item: str) -> list[str]:
    m = re.match(r"(?:open|export)\s+(.*)", item)
    if m is None:
        return []
    words = re.sub(r"\(.*?\)|\bin\b|hiding.*|renaming.*|scoped\b", " ", m.group(1)).split()
    return [plain_name(w) for w in words]
