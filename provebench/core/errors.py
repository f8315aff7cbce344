"""The two failure channels besides verdicts.

A rejected proof is a ``Verdict``. Bad input from the user is a ``UserError``
(exit code 2). A checker that cannot answer (dead container, lost pipe,
unparseable reply) raises ``VerifierUnavailable`` (exit code 3).
"""


class UserError(Exception):
    """Bad usage or bad input; the message is one line meant for the user."""


class VerifierUnavailable(Exception):
    """The checking infrastructure failed; no verdict could be produced."""


class RunStopped(Exception):
    """A run could not go on (prover unavailable, journal unwritable); what is journalled stays."""
