"""audit-worker's flows, one module each: functions taking a unit of work and the narrow ports they need (the
notifier, a clock), never the wiring, never Flask."""
