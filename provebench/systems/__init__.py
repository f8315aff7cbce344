"""The proof systems' own rules: one package per system, each a Verifier behind the core interface."""
