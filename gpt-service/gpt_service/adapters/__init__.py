"""The only modules of gpt-service that touch I/O."""
