"""bakery-service's use cases: one module per flow.

Each takes a unit of work (adapters/unit_of_work.py: ``with uow: ...; uow.commit()``) and the narrow ports it
needs, never the whole wiring and never Flask; it applies the rules of domain/, writes the change and the
outside actions it causes in one transaction, counts it and logs it, and refuses with
servicekit.domain_errors.
"""
