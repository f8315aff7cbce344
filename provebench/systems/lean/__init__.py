"""Lean 4: vetting, the REPL's session and wire, the trusted judge, fill-in answers, the verifier."""
