"""``suite-db upgrade|downgrade|schema|heads``: migrations and the schema dump for the Makefile and compose."""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from . import SCHEMA_SQL, downgrade, heads, upgrade
from .wait import wait_for_database

_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*)$")


def normalise_dump(dump: str) -> str:
    """Drop what changes between runs and versions (comments, SET lines, pg_dump's random restrict key)."""
    lines = [line for line in dump.splitlines() if not _NOISE.match(line)]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return text


def dump_schema(url: str) -> str:
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    pg_dump = next(
        (str(p / "pg_dump") for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), "pg_dump"
    )
    out = subprocess.run(
        [
            pg_dump,
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-schema=public",
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            parsed.database or "postgres",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return normalise_dump(out)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s [%(name)s] %(message)s")
    parser = argparse.ArgumentParser(prog="suite-db")
    parser.add_argument("command", choices=["upgrade", "downgrade", "schema", "heads"])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--target", default=None)
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=float(os.environ.get("SUITE_DB_WAIT_SECONDS", "60")),
        help="how long to retry the first connection before giving up (default 60, env SUITE_DB_WAIT_SECONDS)",
    )
    args = parser.parse_args(argv)
    if args.command == "heads":
        print("\n".join(heads()))
        return 0
    if not args.url:
        print("configuration error: missing required setting DATABASE_URL", file=sys.stderr)
        return 2
    try:
        wait_for_database(args.url, args.wait_seconds)
    except OperationalError as error:
        print(f"database not reachable after {args.wait_seconds:g} s: {error.orig or error}", file=sys.stderr)
        return 1
    if args.command == "upgrade":
        upgrade(args.url, args.target or "heads")
    elif args.command == "downgrade":
        downgrade(args.url, args.target or "base")
    else:
        SCHEMA_SQL.write_text(dump_schema(args.url))
        print(f"wrote {SCHEMA_SQL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
