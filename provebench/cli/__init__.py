"""The ``provebench`` command: its grammar, one module per command group, shared options and output."""
