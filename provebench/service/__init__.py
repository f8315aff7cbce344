"""The checker service: the engine behind an HTTP API (provebench's own ``/v1`` and Kimina Lean Server's)."""
