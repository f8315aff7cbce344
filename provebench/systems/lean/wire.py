"""The Lean REPL's replies as frozen models (leanprover-community/repl's JSON), as the check driver passes them on.

Only what provebench reads is typed; anything else the REPL adds (tactics, info trees) is kept as it
came, so that Kimina's API can pass it on. A reply that does not fit is the checker's failure. Fields the
REPL always sends are required; those it leaves out (an empty list, a sorry's position on line 0) or
sends as null (a message's ``endPos``, a sorry's ``proofState``) are optional.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from provebench.core.errors import VerifierUnavailable


class Pos(BaseModel):
    """A position in the command's text."""

    model_config = ConfigDict(frozen=True)

    line: int
    column: int


class Message(BaseModel):
    """One message of the REPL about a command."""

    model_config = ConfigDict(frozen=True, extra="allow")

    severity: Literal["trace", "info", "warning", "error"]
    pos: Pos
    endPos: Pos | None = None  # noqa: N815 - the REPL's own name; null for a parse error
    data: str


class Sorry(BaseModel):
    """A ``sorry`` the REPL found, with the goal it stands for."""

    model_config = ConfigDict(frozen=True, extra="allow")

    pos: Pos | None = None  # left out when the REPL has no position for it
    endPos: Pos | None = None  # noqa: N815 - the REPL's own name
    goal: str
    proofState: int | None = None  # noqa: N815 - the REPL's own name


class ReplResponse(BaseModel):
    """The REPL's answer to one command: the environment it made, its messages and sorries."""

    model_config = ConfigDict(frozen=True, extra="allow")

    env: int | None = None
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> ReplResponse:
        """The response of a driver's reply (none: an empty one); one that does not fit is the checker's fault."""
        if raw is None:
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise VerifierUnavailable(
                f"the Lean REPL's reply does not fit its protocol: {exc.errors()[0]['msg']}"
            ) from None

    def of_severity(self, severity: str) -> list[Message]:
        """The messages of one severity."""
        return [m for m in self.messages if m.severity == severity]

    def as_json(self) -> dict[str, Any]:
        """As the REPL sent it, key for key (Kimina's API passes it on): no empty lists added, nulls kept."""
        return self.model_dump(mode="json", exclude_unset=True)
