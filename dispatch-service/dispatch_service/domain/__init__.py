"""Rules and models of dispatch-service: plain Python, no Flask, no I/O."""
