"""`flask --app bakery_service bakery run-batch`: the daily Jira batch as a one-off command, for a scheduler
outside the service (the Kubernetes CronJob, EventBridge Scheduler on AWS)."""

from __future__ import annotations

import datetime as dt

import click
from flask import Blueprint

from ..usecases.run_batch import run_batch
from ..wiring import deps

bp = Blueprint("bakery", __name__, cli_group="bakery")


@bp.cli.command("run-batch")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (default: today, UTC)")
def run_batch_command(day: dt.datetime | None) -> None:
    """Batch every order no ticket covers yet, as the 06:00 UTC schedule does: once per day, however many
    schedulers (this command, the service's own loop) ask."""
    date = day.date() if day else dt.datetime.now(dt.UTC).date()
    d = deps()
    result = run_batch(d.uow(), d.settings.public_base_url, "schedule", date)
    if result.batch_id is None:
        click.echo(f"{date}: nothing to batch (no waiting orders, or this day's batch already ran)")
    else:
        click.echo(f"{date}: batch {result.batch_id} takes orders {result.orders}; the Jira ticket is in the outbox")
