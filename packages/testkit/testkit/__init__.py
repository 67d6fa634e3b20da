"""Test helpers: real local servers (Postgres, Redis, moto) and running services as processes."""
