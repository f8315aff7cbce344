"""A prover against a suite: the run's config, plan, orchestrator, journal, statistics, reports, selftests."""
