"""One summary: cache, facts, prompt, model, and the deterministic answer whenever the model fails."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from ..adapters.cache import AnswerCache
from ..adapters.language_model import LanguageModel, ModelUnavailable
from ..adapters.quota import QuotaPause
from ..domain.answers import FallbackReason, SummaryResponse
from ..domain.cache_key import payload_key
from ..domain.facts import Facts, compute_facts
from ..domain.loads import Load
from ..domain.prompt import build_prompt
from ..domain.summary import UnusableAnswer, fallback_response, in_request_order, model_response
from ..metrics import FALLBACKS, PROMPT_TOKENS, REQUESTS, SUMMARY_SECONDS

# The name the summary's lines have always been logged under.
log = logging.getLogger("gpt_service.summarizer")


def summarize_loads(
    loads: Sequence[Load],
    *,
    model: LanguageModel | None,
    cache: AnswerCache,
    quota_pause: QuotaPause,
    prompt_token_budget: int,
) -> SummaryResponse:
    """The model's answer when it gives a usable one (cached for the window), else the deterministic answer
    with the reason; never an error for a failure on the model's side. Without a model (no key) every
    answer is the deterministic one."""
    started = time.perf_counter()
    key = payload_key(loads, model.model if model else "-", prompt_token_budget)
    hit = _cached(cache, key, loads)
    if hit is not None:
        return _done(hit, "cache", started)

    facts = compute_facts(loads)
    if model is None:
        return _fallback(loads, facts, "no_api_key", started)
    if quota_pause.active():
        return _fallback(loads, facts, "insufficient_quota", started)
    prompt = build_prompt(loads, facts, prompt_token_budget)
    PROMPT_TOKENS.observe(prompt.estimated_tokens)
    try:
        completion = model.complete(prompt.system, prompt.user)
        response = model_response(loads, facts, completion.answer, completion.model)
    except ModelUnavailable as exc:
        if exc.reason == "insufficient_quota":
            quota_pause.start()
        return _fallback(loads, facts, exc.reason, started)
    except UnusableAnswer:
        return _fallback(loads, facts, "malformed_output", started)
    except Exception:  # noqa: BLE001 - whatever breaks on the model's side, the caller gets its answer
        log.exception("unexpected failure of the model call")
        return _fallback(loads, facts, "upstream_error", started)
    # Only the model's answers are cached: a fallback is cheap, and caching it would hide the model's recovery
    # for a whole window.
    cache.set(key, response.model_dump_json())
    return _done(response, "model", started)


def _cached(cache: AnswerCache, key: str, loads: Sequence[Load]) -> SummaryResponse | None:
    cached = cache.get(key)
    if cached is None:
        return None
    try:
        response = SummaryResponse.model_validate_json(cached)
    except ValueError:
        # Written by an older release or damaged: recompute rather than fail.
        log.warning("unreadable cache entry ignored")
        return None
    response = in_request_order(response, loads)
    response.cached = True
    return response


def _fallback(loads: Sequence[Load], facts: Facts, reason: FallbackReason, started: float) -> SummaryResponse:
    FALLBACKS.labels(reason=reason).inc()
    # Without a key this is the configured state (said once at start), not a fault worth a warning.
    level = logging.INFO if reason == "no_api_key" else logging.WARNING
    log.log(level, "answering without the model: %s", reason, extra={"reason": reason})
    return _done(fallback_response(loads, facts, reason), "fallback", started)


def _done(response: SummaryResponse, outcome: str, started: float) -> SummaryResponse:
    seconds = time.perf_counter() - started
    REQUESTS.labels(outcome=outcome).inc()
    SUMMARY_SECONDS.labels(outcome=outcome).observe(seconds)
    log.info(
        "summary answered",
        extra={"outcome": outcome, "notes": len(response.notes), "duration_ms": round(seconds * 1000, 1)},
    )
    return response
