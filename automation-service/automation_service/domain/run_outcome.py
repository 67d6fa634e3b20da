"""Extraction runs: their states and how a run's outcome follows from its portals' results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .extracted_loads import Load


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # one portal or the summaries failed; what was extracted is stored
    FAILED = "failed"


# Every kind a portal failure can have (PortalFailure.kind), and "browser" for Chromium's own errors.
FAILURE_KINDS = (
    "login", "session", "layout", "navigation", "timeout", "http_429", "http_5xx", "xhr_error", "empty", "browser",
)  # fmt: skip


class PortalFailure(Exception):
    """A portal that could not be read; ``kind`` names why (login, layout, timeout, http_5xx...)."""

    def __init__(self, kind: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable


@dataclass
class PortalResult:
    portal: str
    loads: list[Load] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    artifacts: list[str] = field(default_factory=list)
    seen: int = 0
    skipped: int = 0
    pages: int = 0
    attempts: int = 0
    duration_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def outcome(results: list[PortalResult], summaries_error: str | None) -> RunStatus:
    """Succeeded when every portal and the summaries worked; failed when no portal did."""
    if not results or not any(r.ok for r in results):
        return RunStatus.FAILED
    if all(r.ok for r in results) and summaries_error is None:
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL
