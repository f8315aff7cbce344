"""provebench inside other tools' evaluations (optional extras): Inspect, and later MCP."""
