"""Prometheus metrics of job handling, labelled by job type and provider."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.metrics import counter, histogram

LABELS = ("type", "provider")

published = counter("jobs_published_total", "Jobs handed to the provider", LABELS)
received = counter("jobs_received_total", "Job deliveries received by this process", LABELS)
succeeded = counter("jobs_succeeded_total", "Job deliveries whose handler succeeded", LABELS)
failed = counter("jobs_failed_total", "Job deliveries whose handler raised", LABELS)
retried = counter("jobs_retried_total", "Job deliveries that were a redelivery (attempt > 1)", LABELS)
dead_lettered = counter("jobs_dead_lettered_total", "Jobs parked on the dead-letter path", LABELS)
duplicates = counter(
    "jobs_duplicates_skipped_total", "Deliveries skipped by the idempotency guard (already done)", ("type",)
)
duration = histogram(
    "jobs_handler_duration_seconds",
    "Handler wall time",
    LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def consuming(job_types: Iterable[str], provider: str) -> None:
    """A consumer's series at zero from its start, so that increase() counts its first delivery (and its first
    dead letter, which an alert reads) too."""
    for job_type in job_types:
        for family in (received, succeeded, failed, retried, dead_lettered):
            family.labels(job_type, provider)
