"""Test doubles for what cannot run here (remote LLM APIs), and for orchestration-only unit tests."""
