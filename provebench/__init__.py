"""provebench: run formal theorem-proving benchmarks with verdicts you can trust."""

__version__ = "0.1.0"
