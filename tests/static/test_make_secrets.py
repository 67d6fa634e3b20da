"""scripts/make_secrets.sh creates every secret file compose declares, once, and never overwrites one."""

from __future__ import annotations

import shutil
import stat
import subprocess


def _run(tmp_path, root) -> subprocess.CompletedProcess:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    shutil.copy(root / "scripts" / "make_secrets.sh", tmp_path / "scripts" / "make_secrets.sh")
    return subprocess.run(
        ["bash", str(tmp_path / "scripts" / "make_secrets.sh")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


def test_creates_every_declared_secret_and_keeps_them(tmp_path, root, compose):
    _run(tmp_path, root)
    folder = tmp_path / "secrets"
    for name, spec in compose["secrets"].items():
        assert (tmp_path / spec["file"]).is_file(), name
    contents = {p.name: p.read_text() for p in folder.glob("*.txt")}
    password = contents["postgres_password.txt"]
    assert len(password) >= 32 and password in contents["database_url.txt"]
    assert contents["database_url.txt"].startswith("postgresql+psycopg://suite:")
    assert contents["jwt_secret.txt"] != password
    assert contents["openai_api_key.txt"] == ""  # outside credentials start empty: "not configured"
    assert "aws_secret_access_key" in contents["aws_credentials.txt"]
    # The services run as uid 10001 and compose bind-mounts the files as they are; the folder stays private.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(p.stat().st_mode & stat.S_IROTH for p in folder.glob("*.txt"))

    (folder / "openai_api_key.txt").write_text("sk-filled-in-by-a-person")
    second = _run(tmp_path, root)
    assert second.stdout == ""
    assert {p.name: p.read_text() for p in folder.glob("*.txt")} == {
        **contents,
        "openai_api_key.txt": "sk-filled-in-by-a-person",
    }


def test_fills_in_a_missing_one_only(tmp_path, root):
    _run(tmp_path, root)
    jwt = (tmp_path / "secrets" / "jwt_secret.txt").read_text()
    (tmp_path / "secrets" / "grafana_admin_password.txt").unlink()
    result = _run(tmp_path, root)
    assert result.stdout.strip() == "created secrets/grafana_admin_password.txt"
    assert (tmp_path / "secrets" / "jwt_secret.txt").read_text() == jwt
