"""Rules and models of audit-worker: plain Python, no Flask, no I/O."""
