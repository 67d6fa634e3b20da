"""audit-worker's adapters: the audit store (MongoDB or memory), the bus consumer, SMTP."""
