"""Proof checkers behind one ``Verifier`` interface."""
