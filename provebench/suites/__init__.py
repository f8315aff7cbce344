"""Suites: provebench's own format, loading and lookup."""
