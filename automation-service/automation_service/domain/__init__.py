"""Rules and models of automation-service: plain Python, no Flask, no I/O."""
