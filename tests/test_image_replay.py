"""Each image, replayed without Docker: what the runtime stage holds must be enough for its command.

For every Dockerfile the builder's dependency step runs exactly as written (the same `uv sync` flags and
package, from a copy of the build context filtered by .dockerignore), the build context is then deleted,
and only the paths the runtime stage COPYs are put into a throwaway root with no checkout beside it. The
command each compose service runs from that image is then run there in a smoke form, with the venv's
python, cwd = the runtime WORKDIR, the runtime ENV and the compose environment (paths such as /opt/venv or
/run/secrets mapped into the throwaway root, secret files made by scripts/make_secrets.sh):

- gunicorn -c <conf>: the conf file is loaded as gunicorn does, its wsgi_app built, GET /healthz answers 200;
- python -m <module>: the module imports (jobs.provision runs with --help);
- the migrations one-shot: `suite-db heads`, then its real shell command against a throwaway Postgres.

The "compose demo" case then runs compose's stack from those images: every service the demo walks through,
started with its compose command and compose's environment and secrets (made by scripts/make_secrets.sh),
the one-shots first, and `make compose-smoke`'s own script (with a `docker` that reports the stack up) runs
the demo against it on compose's published ports. The backing services are real local servers where
compose's cannot run here (Postgres, Redis, moto for LocalStack, the test Pub/Sub server for the emulator,
tests/fake_mailpit.py for Mailpit, the memory audit store for MongoDB), reached under compose's own host
names' addresses. A password, URL or inbox that differs between compose and the local stack fails it there.

Not covered (see infra/README.md): the base image's own contents (Alpine's musl, busybox, Debian's
chromium), wheels picked for musl instead of glibc, Python 3.12 in the images against this machine's
interpreter, the runtime stage's RUN steps, users and file permissions.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from testkit.database import empty_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILES = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/Dockerfile"))
# Commands an image supports besides the ones compose runs (README: `python -m audit_worker.consumer`).
EXTRA_COMMANDS = {"audit-worker/Dockerfile": [["python", "-m", "audit_worker.consumer"]]}
# Backing services the replay cannot start: no MongoDB server can run on these machines (ENVIRONMENT.md),
# and audit-worker's create_app() creates its indexes at start, so it replays with the memory store.
ENV_OVERRIDES = {"audit-worker": {"AUDIT_STORE": "memory"}}
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


# --- the Dockerfile, parsed --------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    result, logical = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not logical and not line):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        keyword, _, args = (logical + line).partition(" ")
        result.append((keyword.upper(), args.strip()))
        logical = ""
    return result


def exec_form(args: str) -> list[str]:
    return yaml.safe_load(args) if args.startswith("[") else ["/bin/sh", "-c", args]


def env_pairs(args: str, env: dict[str, str]) -> dict[str, str]:
    """ENV K=V ... with $VAR and ${VAR} expanded from what is set before, as the builder does."""
    found = {}
    for word in shlex.split(args):
        key, sep, value = word.partition("=")
        assert sep, f"ENV {args}: only the KEY=VALUE form is replayed"
        found[key] = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: {**env, **found}.get(m.group(1), ""), value)
    return found


@dataclass
class Stage:
    base: str
    name: str | None
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    copies: list[tuple[str | None, list[str], str]] = field(default_factory=list)  # (from, sources, dest)
    runs: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def parse_dockerfile(text: str, base_env: dict[str, str]) -> list[Stage]:
    stages: list[Stage] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            words = args.split()
            stages.append(Stage(base=words[0], name=words[2] if len(words) == 3 else None, env=dict(base_env)))
            continue
        stage = stages[-1]
        if keyword == "ENV":
            stage.env.update(env_pairs(args, stage.env))
        elif keyword == "WORKDIR":
            stage.workdir = os.path.join(stage.workdir, args)
        elif keyword == "COPY":
            words = shlex.split(args)
            source_stage = next((w.removeprefix("--from=") for w in words if w.startswith("--from=")), None)
            paths = [w for w in words if not w.startswith("--")]
            # A destination ending in / (or .) is a folder the sources go into.
            folder = "/" if paths[-1].endswith(("/", ".")) else ""
            dest = os.path.normpath(os.path.join(stage.workdir, paths[-1])) + folder
            stage.copies.append((source_stage, paths[:-1], dest))
        elif keyword == "RUN":
            stage.runs.append(args)
        elif keyword == "ENTRYPOINT":
            stage.entrypoint, stage.cmd = exec_form(args), []
        elif keyword == "CMD":
            stage.cmd = exec_form(args)
    return stages


def uv_sync_step(builder: Stage) -> list[str]:
    """The builder's one `uv sync` command, without RUN's --mount flags."""
    steps = [shlex.split(run) for run in builder.runs]
    steps = [[w for w in step if not w.startswith("--mount=")] for step in steps]
    syncs = [step for step in steps if step[:2] == ["uv", "sync"]]
    assert len(syncs) == 1, f"expected one `uv sync` step in the builder, found {builder.runs}"
    return syncs[0]


# --- .dockerignore -----------------------------------------------------------------------------------


def _segments_match(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_segments_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pattern[0]) and _segments_match(pattern[1:], path[1:])


def dockerignore(text: str):
    """A predicate on context-relative paths, with Docker's rules: the last matching line wins, `!`
    re-includes, `**` spans folders, and a pattern that matches a folder excludes what is inside it."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, os.path.normpath(line.lstrip("!").strip("/")).split("/")))

    def ignored(relative: str) -> bool:
        parts = relative.split("/")
        result = False
        for negated, pattern in rules:
            if any(_segments_match(pattern, parts[:n]) for n in range(1, len(parts) + 1)):
                result = not negated
        return result

    return ignored


def copy_context(destination: Path) -> None:
    ignored = dockerignore((ROOT / ".dockerignore").read_text(encoding="utf-8"))
    for folder, dirs, files in os.walk(ROOT):
        relative = os.path.relpath(folder, ROOT)

        def rel(name: str, relative: str = relative) -> str:
            return name if relative == "." else f"{relative}/{name}"

        dirs[:] = [d for d in dirs if not ignored(rel(d))]
        (destination / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            if not ignored(rel(name)):
                shutil.copy2(os.path.join(folder, name), destination / rel(name), follow_symlinks=False)


# --- the replay --------------------------------------------------------------------------------------


def inside(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def map_paths(value: str, root: Path) -> str:
    """Absolute paths that exist in the throwaway root (/opt/venv, /srv, /run/secrets...) point into it."""

    def one(match: re.Match) -> str:
        path = match.group(0)
        return str(inside(root, path)) if inside(root, path.split("/")[1] or ".").exists() else path

    return re.sub(r"(?<![\w.$/:])/\w[\w./-]*", one, value)


def uv_command(pinned: str) -> list[str]:
    """This machine's uv (`make sync` installs it for python3), which must be the images' release."""
    command = [shutil.which("uv")] if shutil.which("uv") else [shutil.which("python3") or sys.executable, "-m", "uv"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    assert version == pinned, f"the images use uv {pinned}, this machine has {version}: replaying with it would differ"
    return command


def pinned_uv(text: str) -> str:
    found = re.search(r"--from=ghcr\.io/astral-sh/uv:([0-9.]+)", text)
    assert found, "the builder copies uv from a pinned ghcr.io/astral-sh/uv image"
    return found.group(1)


def build(dockerfile: str, workspace: Path) -> tuple[Stage, Path]:
    """The runtime stage and its throwaway root, holding only what the image would."""
    text = (ROOT / dockerfile).read_text(encoding="utf-8")
    stages = parse_dockerfile(text, {"PATH": os.environ["PATH"]})
    builder, runtime = stages[0], stages[-1]
    root = workspace / "root"
    # One throwaway root for both stages: the builder's absolute paths (/src, /opt/venv) are the runtime's,
    # so whatever the venv records (an editable link into /src) means in the replay what it means in Docker.
    context = inside(root, builder.workdir)
    copy_context(context)
    sources = [c for c in builder.copies if c[0] is None]
    assert sources == [(None, ["."], builder.workdir.rstrip("/") + "/")], (
        f"{dockerfile}: the builder must COPY . into its WORKDIR"
    )
    venv_copies = [c for c in runtime.copies if c[0] == builder.name]
    venv = builder.env["UV_PROJECT_ENVIRONMENT"]
    assert venv_copies == [(builder.name, [venv], venv)], f"{dockerfile}: the runtime copies the venv {venv} only"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHON"))},
        **builder.env,
        # The venv is built where the runtime stage puts it (a venv cannot move); this machine's python.
        "UV_PROJECT_ENVIRONMENT": str(inside(root, venv)),
        "UV_PYTHON": os.path.realpath(sys._base_executable),
        # Bytecode only makes the image start faster; skipping it keeps the replay fast.
        "UV_COMPILE_BYTECODE": "0",
    }
    sync = uv_sync_step(builder)
    done = subprocess.run(
        [*uv_command(pinned_uv(text)), *sync[1:], "--quiet"],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{dockerfile}: {shlex.join(sync)} failed:\n{done.stderr}"
    # The builder's files are not part of the image: the runtime stage copies from the build context.
    shutil.move(context, workspace / "context")
    context = workspace / "context"
    for source_stage, paths, dest in runtime.copies:
        if source_stage is not None:
            continue
        matches = [m for pattern in paths for m in sorted(context.glob(pattern))]
        assert matches, f"{dockerfile}: COPY {paths} matches nothing in the build context"
        target = inside(root, dest)
        for match in matches:
            if match.is_dir():  # Docker copies a folder's contents, not the folder
                shutil.copytree(match, target, dirs_exist_ok=True)
                continue
            into = target / match.name if dest.endswith("/") or len(matches) > 1 else target
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(match, into)
    shutil.rmtree(context)
    for folder in (runtime.workdir, "/tmp", "/var/log/suite"):
        inside(root, folder).mkdir(parents=True, exist_ok=True)
    return runtime, root


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default}, with the defaults (no .env); $$ is a dollar the container sees."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", str(value)).replace("$$", "$")


def make_secrets(checkout: Path) -> Path:
    """`scripts/make_secrets.sh` run in a checkout of its own; the checkout (its secrets/ holds the files)."""
    scripts = checkout / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "scripts" / "make_secrets.sh", scripts)
    subprocess.run(["bash", str(scripts / "make_secrets.sh")], check=True, capture_output=True, timeout=30)
    return checkout


def secrets_into(root: Path, workspace: Path, database_url: str, checkout: Path | None = None) -> None:
    """The secret files of compose, made the way `scripts/make_secrets.sh` makes them, at /run/secrets; the
    database URL points at the test's Postgres instead of compose's host `postgres`."""
    checkout = checkout or make_secrets(workspace / "secrets-maker")
    target = inside(root, "/run/secrets")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, spec in COMPOSE["secrets"].items():
        shutil.copy(checkout / spec["file"], target / name)
    (target / "database_url").write_text(database_url)


def container_env(runtime: Stage, root: Path, service_name: str) -> dict[str, str]:
    service = COMPOSE["services"][service_name]
    env = {"HOME": str(inside(root, "/tmp")), "LANG": "C.UTF-8", **runtime.env}
    env.update({k: interpolate(v) for k, v in (service.get("environment") or {}).items()})
    env.update(ENV_OVERRIDES.get(service_name, {}))
    env = {k: map_paths(v, root) for k, v in env.items()}
    # Prometheus' multiprocess files and any temporary file go to the root's /tmp (a tmpfs in compose).
    env["TMPDIR"] = str(inside(root, "/tmp"))
    return env


_GUNICORN_SMOKE = textwrap.dedent(
    """
    import importlib, runpy, sys
    conf = runpy.run_path(sys.argv[1])  # as gunicorn reads its -c file
    module, _, factory = conf["wsgi_app"].partition(":")
    app = getattr(importlib.import_module(module), factory.removesuffix("()"))()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    print("healthz", response.status_code)
    """
)


def smoke_forms(argv: list[str]) -> list[list[str]]:
    """The command in a form that returns: gunicorn builds its app once, a python -m worker is imported."""
    if argv[0] == "gunicorn":
        conf = argv[argv.index("-c") + 1] if "-c" in argv else "gunicorn.conf.py"
        return [["python", "-c", _GUNICORN_SMOKE, conf]]
    if argv[:2] == ["python", "-m"]:
        if argv[2] == "jobs.provision":
            return [["python", "-m", "jobs.provision", "--help"]]
        return [["python", "-c", f"import importlib; importlib.import_module({argv[2]!r}); print('imported')"]]
    if argv[0] == "suite-db" or (argv[0] == "/bin/sh" and "suite-db" in argv[-1]):
        return [["suite-db", "heads"], argv]
    raise AssertionError(f"no smoke form for {argv}: teach tests/test_image_replay.py")


def commands_of(dockerfile: str, runtime: Stage) -> list[tuple[str, list[str]]]:
    """(compose service, argv) of each container compose runs from this Dockerfile, plus EXTRA_COMMANDS."""
    found = []
    for name, service in COMPOSE["services"].items():
        if (service.get("build") or {}).get("dockerfile") != dockerfile:
            continue
        # Compose's entrypoint replaces the image's and drops its CMD; compose's command replaces CMD.
        entrypoint = service.get("entrypoint", runtime.entrypoint)
        cmd = service.get("command", runtime.cmd if "entrypoint" not in service else [])
        found.append((name, [interpolate(w) for w in [*entrypoint, *cmd]]))
    assert found, f"no compose service is built from {dockerfile}"
    found += [(found[0][0], argv) for argv in EXTRA_COMMANDS.get(dockerfile, [])]
    return found


def applied_revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT version_num FROM public.alembic_version")).scalars())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def image_build(tmp_path_factory):
    """build(dockerfile), once per image for the whole module (the compose demo reuses the roots)."""
    built: dict[str, tuple[Stage, Path]] = {}

    def get(dockerfile: str) -> tuple[Stage, Path]:
        if dockerfile not in built:
            built[dockerfile] = build(dockerfile, tmp_path_factory.mktemp(Path(dockerfile).parent.name))
        return built[dockerfile]

    return get


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_the_image_runs_its_commands_from_what_it_copies(dockerfile, tmp_path, postgres_url, image_build):
    runtime, root = image_build(dockerfile)
    with empty_database(postgres_url, "replay") as database_url:
        secrets_into(root, tmp_path, database_url)
        failures, heads = [], None
        for service_name, argv in commands_of(dockerfile, runtime):
            env = container_env(runtime, root, service_name)
            for smoke in smoke_forms(argv):
                mapped = [map_paths(word, root) for word in smoke]
                executable = shutil.which(mapped[0], path=env["PATH"])
                if executable is None or not executable.startswith(str(root)) and mapped[0] != "/bin/sh":
                    failures.append(f"{service_name}: {smoke[0]} is not in the image's venv (found {executable})")
                    continue
                done = subprocess.run(
                    [executable, *mapped[1:]],
                    cwd=inside(root, runtime.workdir),
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if done.returncode != 0:
                    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
                    failures.append(f"{service_name}: `{shlex.join(smoke)[:120]}` exited {done.returncode}:\n{tail}")
                elif smoke == ["suite-db", "heads"]:
                    heads = set(done.stdout.split())
        assert failures == [], "\n\n".join(failures)
        if heads is not None:  # the migrations one-shot: it left the database at the heads it listed
            assert heads and applied_revisions(database_url) == heads


def test_the_replay_maps_paths_and_dockerignore_as_docker_does(tmp_path):
    (tmp_path / "opt" / "venv").mkdir(parents=True)
    assert map_paths("/opt/venv/bin:/usr/bin", tmp_path) == f"{tmp_path}/opt/venv/bin:/usr/bin"
    assert map_paths("redis://redis:6379/0", tmp_path) == "redis://redis:6379/0"
    ignored = dockerignore("**/tests\n.env.*\n!.env.example\nsecrets\n")
    assert ignored("fleet-api/tests/unit/test_x.py") and ignored("secrets/jwt_secret.txt")
    assert ignored(".env.local") and not ignored(".env.example") and not ignored("fleet-api/fleet_api/api.py")
    stages = parse_dockerfile("FROM a AS b\nENV P=/x:$PATH\nFROM a\nWORKDIR /srv\nCOPY x/*.py ./\n", {"PATH": "/bin"})
    assert stages[0].env["P"] == "/x:/bin" and stages[1].copies == [(None, ["x/*.py"], "/srv/")]
    assert interpolate("${AWS_REGION:-us-east-1}") == "us-east-1"


# --- the compose demo: `make compose-smoke`'s demo against compose's services, replayed ------------------

# The services scripts/test_endpoints.sh walks through (with the relay that feeds the audit trail), and the
# one-shots compose runs before them; the Terraform one-shot's part is scripts/provision_aws.py's (the same
# table and bucket: tests/static/test_terraform.py).
DEMO_SERVICES = ("fleet-api", "fleet-relay", "audit-worker", "bakery-service", "dispatch-service")
DEMO_ONE_SHOTS = ("migrations", "pubsub-provision")
# The published ports are fixed and shared with the local stack: one user of them at a time per machine.
STACK_LOCK = "/tmp/suite-localstack.lock"
DOCKER_SHIM = """#!/bin/sh
# The Docker CLI as compose_smoke.sh sees it: an engine answers and `compose up --wait` finds the stack up
# (the test started each service from its replayed image). Every call is recorded.
echo "$*" >> "$(dirname "$0")/docker-calls.txt"
exit 0
"""


def dockerfile_of(service_name: str) -> str:
    return COMPOSE["services"][service_name]["build"]["dockerfile"]


def published(service_name: str) -> tuple[str, int, int] | None:
    """(host address, host port, container port) of a service's one published port."""
    ports = COMPOSE["services"][service_name].get("ports") or []
    if not ports:
        return None
    address, host_port, container_port = interpolate(ports[0]).rsplit(":", 2)
    return address, int(host_port), int(container_port)


def on_this_host(env: dict[str, str], addresses: dict[tuple[str, int], tuple[str, int]]) -> dict[str, str]:
    """Compose's `service:port` addresses as the local servers standing in for them (HOST/PORT pairs too)."""
    mapped = {}
    for key, value in env.items():
        for (name, port), (host, local_port) in addresses.items():
            value = re.sub(rf"(?<![\w.-]){re.escape(name)}:{port}\b", f"{host}:{local_port}", value)
        mapped[key] = value
    for key, value in env.items():
        if key.endswith("_HOST") and (value, int(env.get(key[:-5] + "_PORT", "0") or 0)) in addresses:
            host, local_port = addresses[(value, int(env[key[:-5] + "_PORT"]))]
            mapped[key], mapped[key[:-5] + "_PORT"] = host, str(local_port)
    return mapped


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


@pytest.fixture()
def own_redis_and_moto():
    """A Redis and a moto of the demo's own: it stores a day's lists, users and cache entries under compose's
    default names, which the session-wide servers' other users must not find (schemathesis's /assign did)."""
    from testkit.servers import free_port, start_process, stop_process

    redis_port, moto_port = free_port(), free_port()
    redis = start_process(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        port=redis_port,
    )
    try:
        moto = start_process(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(moto_port)],
            port=moto_port,
        )
        try:
            yield f"redis://127.0.0.1:{redis_port}/0", f"http://127.0.0.1:{moto_port}"
        finally:
            stop_process(moto)
    finally:
        stop_process(redis)


@pytest.mark.timeout(1500)
def test_compose_demo_runs_against_the_replayed_services_with_compose_settings(
    tmp_path, postgres_url, own_redis_and_moto, image_build
):
    import fcntl
    import time

    import requests

    sys.path.insert(0, str(ROOT / "packages" / "jobs" / "tests"))
    from fake_mailpit import FakeMailpit
    from jobs_fake_pubsub import FakePubSub
    from testkit.servers import free_port

    # A checkout holding what `make compose-smoke` runs: its script, the demo, the secrets maker.
    checkout = make_secrets(tmp_path / "checkout")
    for script in ("compose_smoke.sh", "test_endpoints.sh"):
        shutil.copy(ROOT / "scripts" / script, checkout / "scripts")
    (checkout / "bin").mkdir()
    (checkout / "bin" / "docker").write_text(DOCKER_SHIM)
    (checkout / "bin" / "docker").chmod(0o755)

    redis_url, moto_url = own_redis_and_moto
    pubsub = FakePubSub()
    pubsub_host, pubsub_port = pubsub.start().rsplit(":", 1)
    redis_host, redis_port = redis_url.split("//")[1].split("/")[0].split(":")
    moto_host, moto_port = moto_url.split("//")[1].rstrip("/").split(":")
    smtp_port = free_port()
    addresses = {
        ("redis", 6379): (redis_host, int(redis_port)),
        ("pubsub-emulator", 8085): (pubsub_host, int(pubsub_port)),
        ("localstack", 4566): (moto_host, int(moto_port)),
        ("mailpit", 1025): ("127.0.0.1", smtp_port),
    }
    for name in DEMO_SERVICES:  # service to service: compose's host name is the published address here
        if published(name):
            address, host_port, container_port = published(name)
            addresses[(name, container_port)] = (address, host_port)
    mail_address, mail_port, _ = published("mailpit")

    procs: list[tuple[str, subprocess.Popen, Path]] = []
    lock = open(STACK_LOCK, "a+")  # noqa: SIM115 (held for the whole test)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        wanted = [published(n)[1] for n in DEMO_SERVICES if published(n)] + [mail_port]
        busy = [port for port in wanted if port_taken(port)]
        assert not busy, f"compose's published ports {busy} are taken, though the stack lock is held"
        with empty_database(postgres_url, "composedemo") as database_url, FakeMailpit(mail_port, smtp_port) as mailpit:

            def environment(service_name: str, runtime: Stage, root: Path) -> dict[str, str]:
                env = on_this_host(container_env(runtime, root, service_name), addresses)
                env["TMPDIR"] = str(inside(root, f"/tmp/{service_name}"))  # each container has its own /tmp
                Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
                if published(service_name):  # listening where compose publishes it
                    env["HOST"], env["PORT"] = published(service_name)[0], str(published(service_name)[1])
                return env

            for name in {dockerfile_of(n) for n in (*DEMO_SERVICES, *DEMO_ONE_SHOTS)}:
                secrets_into(image_build(name)[1], tmp_path, database_url, checkout)

            # The one-shots, in compose's order (their dependants wait for service_completed_successfully).
            for name in DEMO_ONE_SHOTS:
                runtime, root = image_build(dockerfile_of(name))
                (_, argv), *_ = [c for c in commands_of(dockerfile_of(name), runtime) if c[0] == name]
                env = environment(name, runtime, root)
                mapped = [map_paths(word, root) for word in argv]
                executable = shutil.which(mapped[0], path=env["PATH"]) or mapped[0]
                done = subprocess.run(
                    [executable, *mapped[1:]],
                    cwd=inside(root, runtime.workdir),
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
            dispatch = COMPOSE["services"]["dispatch-service"]["environment"]
            done = subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "provision_aws.py")],
                env={
                    **os.environ,
                    "AWS_ENDPOINT_URL": moto_url,
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": interpolate(dispatch["AWS_REGION"]),
                    "ASSIGNMENTS_TABLE": interpolate(dispatch["ASSIGNMENTS_TABLE"]),
                    "LOGS_BUCKET": interpolate(dispatch["LOGS_BUCKET"]),
                },
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr

            # The services, each with compose's command, environment and secrets.
            for name in DEMO_SERVICES:
                runtime, root = image_build(dockerfile_of(name))
                (_, argv), *_ = [c for c in commands_of(dockerfile_of(name), runtime) if c[0] == name]
                env = environment(name, runtime, root)
                mapped = [map_paths(word, root) for word in argv]
                executable = shutil.which(mapped[0], path=env["PATH"])
                assert executable and executable.startswith(str(root)), f"{name}: {argv[0]} is not in the image"
                log = tmp_path / f"{name}.log"
                proc = subprocess.Popen(
                    [executable, *mapped[1:]],
                    cwd=inside(root, runtime.workdir),
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
                procs.append((name, proc, log))

            def tails() -> str:
                return "\n".join(
                    f"--- {n}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:]) for n, _, log in procs
                )

            # compose up --wait: every healthcheck passes (/healthz; the relay: its process is alive).
            deadline = time.monotonic() + 240
            for name, proc, _ in procs:
                where = published(name)
                while where:
                    assert proc.poll() is None, f"{name} exited {proc.returncode}\n{tails()}"
                    try:
                        if requests.get(f"http://{where[0]}:{where[1]}/healthz", timeout=5).status_code == 200:
                            break
                    except requests.RequestException:
                        pass
                    assert time.monotonic() < deadline, f"{name} never became healthy\n{tails()}"
                    time.sleep(0.5)
            time.sleep(2)
            assert all(proc.poll() is None for _, proc, _ in procs), tails()

            # Compose's fleet-api seeds the demo user from its secret file, not from the local default.
            fleet = published("fleet-api")
            login = f"http://{fleet[0]}:{fleet[1]}/auth/login"
            assert (
                requests.post(
                    login, json={"email": "demo@fleet.example", "password": "demo-password"}, timeout=10
                ).status_code
                == 401
            )

            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DEMO_USER_", "MAIL_URL", "FLEET_URL", "AUDIT_URL", "BAKERY_URL", "DISPATCH_URL"))
            }
            env["PATH"] = f"{checkout / 'bin'}:{env['PATH']}"
            smoke = subprocess.run(
                ["bash", str(checkout / "scripts" / "compose_smoke.sh")],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            calls = (checkout / "bin" / "docker-calls.txt").read_text()
            assert smoke.returncode == 0, f"{smoke.stdout[-4000:]}\n{smoke.stderr[-3000:]}\n{tails()}"
            assert "compose up -d --build --wait" in calls and "compose down -v" in calls, calls
            assert "All dispatch-service steps passed." in smoke.stdout
            # The demo looked in Mailpit's inbox, and the ready notice is there.
            assert any(path.startswith("/api/v1/messages") for path in mailpit.requests), mailpit.requests
            assert any(a["Address"] == "mr_cakelover@gmail.com" for m in mailpit.messages for a in m["To"])
    finally:
        for _, proc, _ in procs:
            proc.terminate()
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        pubsub.stop()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
