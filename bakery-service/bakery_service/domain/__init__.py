"""Rules and models of bakery-service: plain Python, no Flask, no I/O."""
