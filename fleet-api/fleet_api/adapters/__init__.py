"""fleet-api's adapters: the only modules that touch Postgres, Redis or the event bus."""
