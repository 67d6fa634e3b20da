"""Say once, when a process starts, whether summaries come from a model or are all the deterministic answer."""

from __future__ import annotations

import logging

from ..metrics import MODEL_CONFIGURED, MODEL_LATENCY, TOKENS

# The name this line has always been logged under (the package's).
log = logging.getLogger("gpt_service")


def report_model_state(model: str | None) -> None:
    """``gpt_model_configured``, and with a model its token and latency series at zero, so that increase()
    counts the first call. Without a key the service is in a documented state, not a fault: one info line."""
    MODEL_CONFIGURED.set(1 if model else 0)
    if model is None:
        log.info("no OpenAI API key: every summary is the deterministic answer (degraded: true, reason no_api_key)")
        return
    for kind in ("prompt", "completion"):
        TOKENS.labels(kind=kind, model=model)
    MODEL_LATENCY.labels(result="ok")
