"""Where and how checks run: the engine, its warm contexts, batches, placement (local, service, Ray)."""
