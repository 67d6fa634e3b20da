"""Where the local stack keeps its Postgres cluster. Run as root, Postgres runs as the user postgres, which
cannot enter a checkout in a private home (a newcomer's clone in /root or a 0700 /home/<you>; `make
clean-room` found `make up` failing at initdb there): the cluster then lives under that user's home."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pg_data(state_dir: Path) -> Path:
    code = "import sys; sys.path.insert(0, 'scripts'); import localstack; print(localstack.PG_DATA)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "SUITE_STATE_DIR": str(state_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another user only when the stack runs as root")
def test_a_checkout_in_a_private_home_keeps_its_cluster_where_postgres_may_go(tmp_path):
    try:
        home = Path(pwd.getpwnam("postgres").pw_dir)
    except KeyError:
        pytest.skip("no postgres user here")
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    found = pg_data(private / "suite" / ".local")
    assert found.parent == home / "trucking-suite"
    assert found != pg_data(private / "other" / ".local"), "each checkout has a cluster of its own"
    # A checkout every user may enter keeps it inside, as before (pytest's tmp_path is itself private).
    open_home = Path(tempfile.mkdtemp(prefix="suite-open-"))
    try:
        open_home.chmod(0o755)
        assert pg_data(open_home / ".local") == open_home / ".local" / "postgres"
    finally:
        open_home.rmdir()
