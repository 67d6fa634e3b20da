"""`flask --app dispatch_service dispatch generate-day | check-day`: a generated day's lists, stored or written to a
file; a day's assignments read back and checked against every invariant of /assign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Blueprint

from ..usecases.check_day import check_day
from ..usecases.generate_day import generate_and_store, generated_lists
from ..wiring import deps

bp = Blueprint("dispatch", __name__, cli_group="dispatch")


@bp.cli.command("generate-day")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (default: today, UTC)")
@click.option("--drivers", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--packages", type=click.IntRange(0, 1_000_000), default=2_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--continuous-limits", is_flag=True, help="Every driver its own continuous weight, volume, distance.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the lists to this file instead of storing them in the logs bucket.",
)
def generate_day_command(
    day: dt.datetime | None, drivers: int, packages: int, seed: int, continuous_limits: bool, output: Path | None
) -> None:
    """Generate a day's lists from a seed and store them as that day's manifest (same seed, same day)."""
    date = day.date() if day else dt.datetime.now(dt.UTC).date()
    if output is not None:
        manifest = generated_lists(date, drivers, packages, seed, continuous_limits)
        output.write_text(manifest.model_dump_json(exclude_none=True), encoding="utf-8")
        click.echo(f"{date}: {drivers} drivers, {packages} packages written to {output}")
        return
    stored = generate_and_store(deps().uow(), date, drivers, packages, seed, continuous_limits)
    click.echo(f"{date}: {stored.drivers} drivers, {stored.packages} packages stored at {stored.key}")


@bp.cli.command("check-day")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (default: today, UTC)")
def check_day_command(day: dt.datetime | None) -> None:
    """Read a day's assignments, claim blocks and runs back and check every invariant; exit 1 on a breach."""
    date = (day.date() if day else dt.datetime.now(dt.UTC).date()).isoformat()
    report = check_day(deps().uow(), date)
    click.echo(report.summary())
    for problem in report.problems:
        click.echo(f"  - {problem}")
    if not report.ok:
        raise SystemExit(1)
