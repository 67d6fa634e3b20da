"""fleet-api's use cases, one module per flow: functions taking a unit of work and the narrow ports they need.

They run the rules (domain/), the transaction (``with uow: ... uow.commit()``), the outbox event, the metrics and
the domain-event log line; they raise servicekit.domain_errors, which servicekit answers as problem+json.
"""
