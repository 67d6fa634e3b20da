"""`make schema`: apply every migration to a throwaway Postgres and write db/schema.sql from it."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from suite_db import SCHEMA_SQL, upgrade
from suite_db.cli import dump_schema
from testkit.servers import PostgresCluster


def main() -> None:
    cluster = PostgresCluster()
    try:
        admin_url = cluster.start()
        name = f"schema_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        SCHEMA_SQL.write_text(dump_schema(url))
        print(f"wrote {SCHEMA_SQL.relative_to(SCHEMA_SQL.parent.parent)}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
