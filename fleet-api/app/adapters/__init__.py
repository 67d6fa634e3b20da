"""The only modules of fleet-api that touch I/O."""
