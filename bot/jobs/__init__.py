"""Generation jobs: queue, lifecycle, progress coalescing and resume (no discord imports)."""
