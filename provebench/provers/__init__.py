"""Provers: where candidate proofs come from."""
