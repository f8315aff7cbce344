"""What every layer shares: problems, verdicts, errors, settings, the Verifier interface, outside files."""
