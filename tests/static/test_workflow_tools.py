"""Every tool a GitHub workflow step calls is installed by the job's image or by an earlier step of the job.

The model (tests/static/workflow_tools.py) follows each `run:` step through make targets and the repository's
shell scripts to the commands, and knows what the images have and what each install step brings.

On the workflow as it was before the lint and test jobs moved into Debian 12 containers (commit 063ff6b:
both on the bare `ubuntu-24.04` runner, `make sync test-tools lint` and `make test`), this test fails with:

    ci.yml job lint (ubuntu-24.04): step 'make lint' > make lint > scripts/static_checks.sh calls promtool,
        which neither the image nor an earlier step installs
    ci.yml job test (ubuntu-24.04): step 'make test' > make system-deps > scripts/install_system_deps.sh
        installs Debian 12 packages (postgresql redis-server chromium chromium-headless-shell prometheus wrk
        npm), but the job does not run in a Debian 12 image
    ci.yml job test (ubuntu-24.04): step 'make test' > make test > scripts/run_tests.sh >
        scripts/static_checks.sh calls promtool, which neither the image nor an earlier step installs
    ci.yml job test (ubuntu-24.04): step 'make test' > make test > scripts/run_tests.sh > pytest (a fixture
        starts it) calls redis-server, which neither the image nor an earlier step installs
    ... (initdb, pg_ctl, chromium, chromium-headless-shell, prometheus likewise)

test_the_jobs_as_they_were_fail_the_check replays those two jobs against today's Makefile and scripts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import workflow_tools as wt
import yaml

ROOT = Path(__file__).resolve().parents[2]

# The two jobs as they were (063ff6b), with the steps that matter.
OLD_JOBS = """
jobs:
  lint:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0
        with: {python-version: "3.11"}
      - name: make lint
        run: make sync test-tools lint
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0
        with: {python-version: "3.11"}
      - name: make test
        run: make test
"""


def test_every_tool_a_job_calls_is_installed_by_its_image_or_an_earlier_step():
    assert wt.check(ROOT) == []


def test_the_jobs_that_need_system_packages_run_in_debian_12():
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    for name in ("lint", "test"):
        container = workflow["jobs"][name]["container"]
        image = container["image"] if isinstance(container, dict) else container
        assert wt.DEBIAN_12_IMAGE.match(image), (name, image)
        if release.get("ID") == "debian":  # the same release as the machine the clean room and tests run on
            assert image.split(":")[1].split("-")[0].split(".")[0] in (release["VERSION_ID"].strip('"'), "bookworm")


def _workflow_root(tmp_path: Path, workflow: str) -> Path:
    """A copy of the repository's Makefile and scripts with another workflow."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text(workflow)
    return tmp_path


def test_the_jobs_as_they_were_fail_the_check(tmp_path):
    problems = wt.check(_workflow_root(tmp_path, OLD_JOBS))
    lint = [p for p in problems if " job lint " in p]
    test = [p for p in problems if " job test " in p]
    assert any("static_checks.sh calls promtool" in p for p in lint), problems
    assert any(
        "install_system_deps.sh installs Debian 12 packages" in p and "chromium-headless-shell" in p for p in test
    ), problems
    assert any("calls redis-server" in p for p in test), problems


@pytest.mark.parametrize(
    ("steps", "missing"),
    [
        # A bare Debian image has no make: the install script must come first.
        ("- run: make lint", "calls make"),
        # A tool folder is used before anything makes it.
        ("- run: scripts/install_system_deps.sh\n- run: make sync test-tools lint", None),
        (
            "- run: scripts/install_system_deps.sh\n- run: make lint",
            "calls ./.venv/bin/ruff, which no earlier step makes",
        ),
        ("- run: .venv/bin/ruff check .", "calls .venv/bin/ruff, which no earlier step makes"),
        ("- run: apt-get install -y wrk\n- run: wrk --version", None),
        ("- run: wrk --version\n- run: apt-get install -y wrk", "calls wrk"),
        ("- run: sh -c 'promtool check config x.yml'", "calls promtool"),
    ],
)
def test_the_model_on_small_jobs(tmp_path, steps, missing):
    workflow = "jobs:\n  j:\n    runs-on: ubuntu-24.04\n    container: debian:12.11-slim\n    steps:\n"
    workflow += textwrap.indent(steps, "      ") + "\n"
    problems = wt.check(_workflow_root(tmp_path, workflow))
    if missing is None:
        assert problems == []
    else:
        assert any(missing in p for p in problems), problems


def test_the_shell_reader_finds_commands_where_bash_runs_them():
    text = textwrap.dedent(
        """\
        #!/usr/bin/env bash
        set -euo pipefail
        X=(not a command)
        run() { local name=$1; shift; "$@"; }
        if command -v promtool >/dev/null; then run rules promtool check rules a.yml; fi
        status=$(curl -sS "$URL" | python3 -c 'import sys') || fail "no answer"
        case "$1" in dev|prod) ;; *) echo bad;; esac
        cat > f <<EOF
        heredoc-word here
        EOF
        ((count)) && redis-cli ping 9> /tmp/lock
        """
    )
    words = [c[0] for c in wt.commands(text)]
    assert "heredoc-word" not in words and "not" not in words and "dev" not in words
    for expected in ("run", "curl", "python3", "fail", "echo", "cat", "redis-cli"):
        assert expected in words, (expected, words)
    assert wt.shift_count(text.replace("run() { ", "run() {\n").replace('"$@"; }', '"$@"\n}'), "run") == 1


def _files_of(package: str, depth: int = 3, seen: set[str] | None = None) -> str:
    """The files of a package and of what it depends on (npm brings node through nodejs, postgresql its
    client's psql through postgresql-15), `depth` levels down."""
    seen = set() if seen is None else seen
    if package in seen or depth < 0:
        return ""
    seen.add(package)
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    if listing.returncode != 0:
        return ""
    depends = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}", package], capture_output=True, text=True)
    files = listing.stdout
    for dependency in re.findall(r"(?:^|, |\| )([a-z0-9][a-z0-9.+-]+)", depends.stdout):
        files += _files_of(dependency, depth - 1, seen)
    return files


def test_the_package_table_agrees_with_dpkg():
    """Each command DEBIAN_PACKAGES says a package brings is among that package's files (where installed)."""
    if shutil.which("dpkg") is None:
        pytest.skip("not a Debian system")
    checked = 0
    for package, tools in wt.DEBIAN_PACKAGES.items():
        if subprocess.run(["dpkg", "-s", package], capture_output=True).returncode != 0:
            continue
        files = _files_of(package)
        names = {Path(line).name for line in files.splitlines()}
        for tool in tools:
            if tool.startswith("python3 -m "):
                # venv itself is in the standard library; Debian leaves out ensurepip, which it needs.
                module = {"venv": "ensurepip"}.get(tool.split()[-1], tool.split()[-1])
                assert any(f"/{module}/" in line for line in files.splitlines()), (package, tool)
            else:
                assert tool in names, (package, tool)
        checked += 1
    assert checked >= 5, "this Debian machine should have most of the suite's packages"


def test_the_tools_pytest_is_said_to_call_are_called():
    sources = "".join(
        p.read_text(encoding="utf-8", errors="ignore")
        for folder in ("packages/testkit", "tests", "automation-service", "bakery-service")
        for p in (ROOT / folder).rglob("*.py")
        if ".venv" not in p.parts and "node_modules" not in p.parts
    )
    for tool in wt.PYTEST_CALLS:
        assert re.search(rf"[\"'/]{re.escape(tool)}[\"']", sources), tool
