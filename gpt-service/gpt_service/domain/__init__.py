"""Rules and models of gpt-service: plain Python, no Flask, no I/O."""
