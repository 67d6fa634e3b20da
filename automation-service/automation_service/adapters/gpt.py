"""gpt-service's POST /summarize-loads, through servicekit's retrying client with a service token."""

from __future__ import annotations

from decimal import Decimal

import requests
from pydantic import ValidationError
from servicekit import HttpClient, service_token

from .. import metrics
from ..domain.extracted_loads import Load
from ..domain.summaries import Summary
from ..settings import Settings


class GptUnavailable(Exception):
    """gpt-service gave no usable answer after its retries."""


def load_payload(load: Load) -> dict:
    def iso(moment):
        return moment.isoformat() if moment else None

    return {
        "portal": load.portal,
        "load_id": load.portal_load_id,
        "origin": {"city": load.origin.city, "state": load.origin.state},
        "destination": {"city": load.destination.city, "state": load.destination.state},
        "price": str(load.price) if isinstance(load.price, Decimal) else None,
        "currency": load.currency or "USD",
        "posted_at": iso(load.posted_at),
        "eta": iso(load.eta),
        "equipment": load.equipment,
        "weight_lbs": load.weight_lbs,
        "miles": load.miles,
    }


class GptClient:
    def __init__(self, settings: Settings) -> None:
        self.client = HttpClient(
            settings.gpt_service_url,
            "gpt-service",
            timeout=settings.gpt_timeout_seconds,
            max_attempts=settings.gpt_max_attempts,
            max_total_seconds=settings.gpt_timeout_seconds * settings.gpt_max_attempts,
            token_provider=lambda: service_token(settings),
            # Retries show up in automation_retries_total{target="gpt-service"}.
            on_retry=lambda _: metrics.RETRIES.labels("", "gpt-service").inc(),
        )

    def summarize(self, loads: list[Load]) -> Summary:
        try:
            response = self.client.post("/summarize-loads", json={"loads": [load_payload(x) for x in loads]})
        except requests.RequestException as exc:
            metrics.GPT_CALLS.labels("connection_error").inc()
            raise GptUnavailable(f"gpt-service unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            metrics.GPT_CALLS.labels(f"http_{response.status_code}").inc()
            detail = _detail(response)
            raise GptUnavailable(f"gpt-service answered {response.status_code}: {detail}")
        try:
            summary = Summary.model_validate(response.json())
        except (ValueError, ValidationError):
            metrics.GPT_CALLS.labels("bad_answer").inc()
            raise GptUnavailable("gpt-service answered 200 with a body that is not a summary") from None
        metrics.GPT_CALLS.labels("degraded" if summary.degraded else "success").inc()
        return summary


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or body.get("title") or body)[:300] if isinstance(body, dict) else str(body)[:300]
