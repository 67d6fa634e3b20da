"""What an audit-worker process does besides answering requests, run by a servicekit.Lifecycle
(wiring.background): with AUDIT_CONSUMER=embedded, the consumer of fleet events."""
