"""``python -m jobs.outbox``: an operator's view of an outbox and its dead letter.

    python -m jobs.outbox --schema fleet dead             # the dead letter: id, type, attempts, last error
    python -m jobs.outbox --schema fleet replay <id>      # one row due again (a dead one with fresh attempts)
    python -m jobs.outbox --schema fleet replay-channel default
    python -m jobs.outbox --schema fleet counts

The database comes from ``--database-url`` or ``DATABASE_URL`` (``DATABASE_URL_FILE`` too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from .store import Outbox


def _database_url(given: str | None) -> str:
    if given:
        return given
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if os.environ.get("DATABASE_URL_FILE"):
        return Path(os.environ["DATABASE_URL_FILE"]).read_text().strip()
    raise SystemExit("set DATABASE_URL (or DATABASE_URL_FILE), or pass --database-url")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True, help="the owning service's schema (fleet, bakery)")
    parser.add_argument("--database-url", default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    dead = commands.add_parser("dead", help="list the dead letter, newest first")
    dead.add_argument("--channel", default=None)
    dead.add_argument("--limit", type=int, default=100)
    replay = commands.add_parser("replay", help="make one row (by id) due again")
    replay.add_argument("id")
    by_channel = commands.add_parser("replay-channel", help="make every dead, held or waiting row of a channel due")
    by_channel.add_argument("channel")
    commands.add_parser("counts", help="rows per channel and state")
    args = parser.parse_args(argv)

    engine = sa.create_engine(_database_url(args.database_url), pool_size=1)
    outbox = Outbox(engine, args.schema)
    try:
        if args.command == "dead":
            for row in outbox.dead_letters(args.channel, args.limit):
                print(json.dumps({"id": row.id, "type": row.type, "channel": row.channel, "attempts": row.attempts,
                                  "at": row.updated_at.isoformat(), "error": row.last_error}))  # fmt: skip
            return 0
        if args.command == "replay":
            if not outbox.replay(args.id):
                print(f"no dead, held or waiting row has the id {args.id}", file=sys.stderr)
                return 1
            print(f"{args.id} is due again")
            return 0
        if args.command == "replay-channel":
            print(f"{outbox.replay_channel(args.channel)} row(s) of {args.channel} due again")
            return 0
        print(json.dumps(outbox.counts(), sort_keys=True))
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
