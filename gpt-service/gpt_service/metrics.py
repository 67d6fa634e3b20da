"""gpt-service's domain metrics (HTTP metrics come from servicekit)."""

from typing import get_args

from servicekit import counter, gauge, histogram

from .domain.answers import FallbackReason

REQUESTS = counter(
    "gpt_summarize_requests_total", "Summaries answered, by outcome: model, fallback or cache.", ["outcome"]
)
FALLBACKS = counter("gpt_fallbacks_total", "Deterministic answers given instead of the model's, by reason.", ["reason"])
MODEL_LATENCY = histogram(
    "gpt_model_latency_seconds",
    "Duration of one model call attempt, by result.",
    ["result"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
MODEL_RETRIES = counter("gpt_model_retries_total", "Model calls retried, by the failure that caused it.", ["reason"])
TOKENS = counter(
    "gpt_tokens_total", "Tokens the model reported using, by kind (prompt or completion).", ["kind", "model"]
)
PROMPT_TOKENS = histogram(
    "gpt_prompt_estimated_tokens",
    "Estimated size of the prompts built, in tokens.",
    buckets=(250, 500, 1000, 2000, 3000, 4000, 6000, 8000),
)
SUMMARY_SECONDS = histogram(
    "gpt_summary_duration_seconds", "Time to answer one summary, model call included, by outcome.", ["outcome"]
)

# No key is a state, not a failure: without one every summary is the deterministic answer by design, and
# the alert on fallbacks leaves reason="no_api_key" out. This says which state the service is in.
MODEL_CONFIGURED = gauge(
    "gpt_model_configured",
    "1 when an OpenAI API key is configured, 0 when every summary is the deterministic answer by design",
    multiprocess_mode="livemax",
)

# Known label values start at zero, so Prometheus' increase() counts the first summary (and the first
# fallback of each reason) too.
for _outcome in ("model", "fallback", "cache"):
    REQUESTS.labels(_outcome)
    SUMMARY_SECONDS.labels(_outcome)
for _reason in get_args(FallbackReason):
    FALLBACKS.labels(_reason)
