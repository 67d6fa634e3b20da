"""The only modules of automation-service that touch I/O."""
