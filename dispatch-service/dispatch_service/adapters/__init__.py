"""The only modules of dispatch-service that touch I/O."""
