"""audit-worker's adapters, the only I/O: the trail's stores (MongoDB, Postgres, memory) and their unit of work,
and the driver notifications (SMTP)."""
