"""The only modules of audit-worker that touch I/O."""
