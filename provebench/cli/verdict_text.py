"""A verdict as ``check`` prints it, from its JSON form: the same lines whether checked here or by a service."""

from __future__ import annotations

from typing import Any


def verdict_lines(verdict: dict[str, Any], label: str) -> list[str]:
    """The status line, the checker's identity, a computed goal, then each message."""
    lines = [f"{verdict['status']} ({verdict['reason']}) {label}  {float(verdict.get('check_seconds', 0)):.3f} s"]
    checker = verdict.get("checker")
    if checker:
        name = checker.get("recipe") or checker.get("image")
        lines.append(
            f"checker: {name} {checker.get('version')} packages {checker.get('packages')} ({checker.get('digest')})"
        )
    if verdict.get("service"):
        lines.append(f"checked by the service at {verdict['service']}")
    if verdict.get("computed_goal") is not None:
        lines.append(f"computed goal: {verdict['computed_goal']}")
    lines.extend(str(m) for m in verdict.get("messages", ()))
    return lines
