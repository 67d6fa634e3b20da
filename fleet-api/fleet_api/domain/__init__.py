"""fleet-api's rules and models: plain Python, no Flask and no I/O."""
