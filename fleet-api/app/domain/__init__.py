"""Rules and models of fleet-api: plain Python, no Flask, no I/O."""
