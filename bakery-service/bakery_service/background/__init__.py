"""The work each worker process does besides requests, run by a servicekit.Lifecycle (wiring.background):
the outbox processor and the daily Jira batch.

Several workers (and replicas) may run these loops at once: the processor's actions are claimed with
leases and settled fenced (jobs.outbox), and the day's scheduled batch is claimed once in Postgres, so
running them everywhere is safe.
"""
