"""One summary: cache, facts, prompt, model, and the deterministic answer whenever the model fails."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from pydantic import TypeAdapter

from .adapters.cache import AnswerCache
from .adapters.openai_model import Completion, ModelUnavailable
from .adapters.quota import LocalQuotaPause, QuotaPause
from .domain.facts import compute_facts
from .domain.models import Load
from .domain.prompt import PROMPT_VERSION, build_prompt
from .domain.summary import FallbackReason, SummaryResponse, UnusableAnswer, fallback_response, model_response
from .metrics import FALLBACKS, PROMPT_TOKENS, REQUESTS, SUMMARY_SECONDS

log = logging.getLogger(__name__)
_LOADS = TypeAdapter(list[Load])


class Model(Protocol):
    model: str

    def complete(self, system: str, user: str) -> Completion: ...


def payload_key(loads: Sequence[Load], model: str, budget: int) -> str:
    """The same loads in any order, with the same model and prompt, give the same key."""
    digest = hashlib.sha256(json.dumps([PROMPT_VERSION, model, budget]).encode("utf-8"))
    digest.update(_LOADS.dump_json(sorted(loads, key=lambda load: load.key)))
    return digest.hexdigest()


class Summarizer:
    def __init__(
        self,
        model: Model | None,
        cache: AnswerCache,
        *,
        prompt_token_budget: int,
        quota_cooldown_seconds: float = 60.0,
        quota_pause: QuotaPause | None = None,
    ):
        self.model = model
        self.cache = cache
        self.budget = prompt_token_budget
        self.quota_pause = quota_pause or LocalQuotaPause(quota_cooldown_seconds)

    def summarize(self, loads: Sequence[Load]) -> SummaryResponse:
        started = time.perf_counter()
        key = payload_key(loads, self.model.model if self.model else "-", self.budget)
        hit = self._cached(key, loads)
        if hit is not None:
            return self._done(hit, "cache", started)

        facts = compute_facts(loads)
        reason = self._skip_reason()
        if reason is not None:
            return self._fallback(loads, facts, reason, started)
        prompt = build_prompt(loads, facts, self.budget)
        PROMPT_TOKENS.observe(prompt.estimated_tokens)
        try:
            completion = self.model.complete(prompt.system, prompt.user)
            response = model_response(loads, facts, completion.answer, completion.model)
        except ModelUnavailable as exc:
            if exc.reason == "insufficient_quota":
                self.quota_pause.start()
            return self._fallback(loads, facts, exc.reason, started)
        except UnusableAnswer:
            return self._fallback(loads, facts, "malformed_output", started)
        except Exception:  # noqa: BLE001 - whatever breaks on the model's side, the caller gets its answer
            log.exception("unexpected failure of the model call")
            return self._fallback(loads, facts, "upstream_error", started)
        # Only the model's answers are cached: a fallback is cheap, and caching it would hide the
        # model's recovery for a whole window.
        self.cache.set(key, response.model_dump_json())
        return self._done(response, "model", started)

    def _cached(self, key: str, loads: Sequence[Load]) -> SummaryResponse | None:
        cached = self.cache.get(key)
        if cached is None:
            return None
        try:
            response = SummaryResponse.model_validate_json(cached)
        except ValueError:
            # Written by an older release or damaged: recompute rather than fail.
            log.warning("unreadable cache entry ignored")
            return None
        response = _in_order(response, loads)
        response.cached = True
        return response

    def _skip_reason(self) -> FallbackReason | None:
        if self.model is None:
            return "no_api_key"
        if self.quota_pause.active():
            return "insufficient_quota"
        return None

    def _fallback(self, loads, facts, reason: FallbackReason, started: float) -> SummaryResponse:
        FALLBACKS.labels(reason=reason).inc()
        # Without a key this is the configured state (said once at start), not a fault worth a warning.
        level = logging.INFO if reason == "no_api_key" else logging.WARNING
        log.log(level, "answering without the model: %s", reason, extra={"reason": reason})
        return self._done(fallback_response(loads, facts, reason), "fallback", started)

    def _done(self, response: SummaryResponse, outcome: str, started: float) -> SummaryResponse:
        seconds = time.perf_counter() - started
        REQUESTS.labels(outcome=outcome).inc()
        SUMMARY_SECONDS.labels(outcome=outcome).observe(seconds)
        log.info(
            "summary answered",
            extra={"outcome": outcome, "notes": len(response.notes), "duration_ms": round(seconds * 1000, 1)},
        )
        return response


def _in_order(response: SummaryResponse, loads: Sequence[Load]) -> SummaryResponse:
    """A cached answer may come from the same loads sent in another order: notes follow this request."""
    by_key = {note.key: note for note in response.notes}
    response.notes = [
        by_key[load.key].model_copy(update={"position": load.position}) for load in loads if load.key in by_key
    ]
    return response
