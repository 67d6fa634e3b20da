"""The only modules of bakery-service that touch I/O."""
