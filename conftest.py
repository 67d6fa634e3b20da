"""What every test of the suite shares, whichever folder it is run from."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture(scope="session")
def migrate_schema() -> Callable[[str], None]:
    """testkit's migrated_db_url asks for the schema: the suite's, every Alembic branch at its head."""
    from suite_db import upgrade

    return upgrade
