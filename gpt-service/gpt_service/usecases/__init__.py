"""gpt-service's flows, one module each: functions taking the narrow ports they need (a model, a cache, the
quota pause), never the wiring, never Flask."""
