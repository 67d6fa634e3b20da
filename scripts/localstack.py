"""The local stack: the whole suite as processes on 127.0.0.1 when no Docker engine answers.

    python scripts/localstack.py up|down|status|logs|migrate|run SERVICE|worker

Backing servers are real where they can be had here (Postgres, Redis, moto's AWS server, Prometheus when
installed) and the documented stand-ins where they cannot (event bus on Redis Streams instead of Pub/Sub,
audit store in memory instead of MongoDB). Processes run under honcho, started in two phases: the
backing servers, then (after migrations) the services. Every pid is recorded so `down` stops exactly
what `up` started. State (database, logs, pids, generated secrets) lives in .local/.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SUITE_STATE_DIR") or ROOT / ".local")
LOGS = STATE / "logs"
PG_DATA = STATE / "postgres"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

PG_PORT, REDIS_PORT, AWS_PORT, PROMETHEUS_PORT, LOADBOARD_SIM_PORT = 5432, 6379, 4566, 9090, 8010


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    extra_processes: tuple[tuple[str, str], ...] = ()  # (process name, command) run beside the web app


SERVICES = (
    Service("dispatch-service", 8000),
    # The outbox relay publishes fleet events written in fleet-api's transactions to the bus.
    Service("fleet-api", 8001, extra_processes=(("fleet-relay", f"{VENV_BIN / 'python'} -m fleet_api.relay"),)),
    Service("gpt-service", 8002),
    # The two loadboard portals' stand-in (loadboard-sim), which the extraction runs log into.
    Service(
        "automation-service",
        8003,
        extra_processes=(
            ("loadboard-sim", f"PORT={LOADBOARD_SIM_PORT} {VENV_BIN / 'gunicorn'} -c gunicorn.loadboard-sim.conf.py"),
        ),
    ),
    Service("bakery-service", 8004),
    Service("audit-worker", 8005),
)
SERVICE_BY_NAME = {s.name: s for s in SERVICES}


def stack_env() -> dict[str, str]:
    """.env.example's defaults, then what differs on the local stack."""
    env: dict[str, str] = {}
    example = ROOT / ".env.example"
    if example.exists():
        for line in example.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip().strip('"').strip("'")
    secrets_dir = STATE / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    jwt_file = secrets_dir / "jwt_secret"
    if not jwt_file.exists():
        jwt_file.write_text(secrets.token_urlsafe(48))
        jwt_file.chmod(0o600)
    env.pop("JWT_SECRET", None)
    env.update(
        {
            "JWT_SECRET_FILE": str(jwt_file),
            "DATABASE_URL": f"postgresql+psycopg://postgres@{HOST}:{PG_PORT}/suite",
            "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
            "JOBS_PROVIDER": "redis",
            "JOBS_REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/1",
            "AUDIT_STORE": "memory",
            "AWS_ENDPOINT_URL": f"http://{HOST}:{AWS_PORT}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "STORAGE_PROVIDER": "local",
            "STORAGE_LOCAL_ROOT": str(STATE / "storage"),
            "GPT_SERVICE_URL": f"http://{HOST}:8002",
            "FLEET_API_URL": f"http://{HOST}:8001",
            "LOADBOARD_SIM_URL": f"http://{HOST}:{LOADBOARD_SIM_PORT}",
            "LOG_DIR": str(LOGS),
            "HOST": HOST,
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# --- small utilities -------------------------------------------------------------------------------


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((HOST, port)) == 0


def wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not listen on {HOST}:{port} within {timeout:.0f}s; see {LOGS}")
        time.sleep(0.2)


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback URLs only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def pg_bin(tool: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), reverse=True)
    if not candidates:
        raise SystemExit("PostgreSQL binaries not found: run `make setup`")
    return str(candidates[0])


# --- phases ----------------------------------------------------------------------------------------


def start_postgres() -> None:
    if port_open(PG_PORT):
        return
    if not (PG_DATA / "PG_VERSION").exists():
        PG_DATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(PG_DATA, "postgres", "postgres")
        subprocess.run(
            as_postgres(
                [pg_bin("initdb"), "-D", str(PG_DATA), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
    log = LOGS / "postgres.log"
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    subprocess.run(
        as_postgres(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(PG_DATA),
                "-w",
                "-l",
                str(log),
                "-o",
                f"-p {PG_PORT} -k {PG_DATA} -c listen_addresses={HOST} -c max_connections=200",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    psql = ["psql", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "-tAc"]
    exists = (
        subprocess.run(
            psql + ["SELECT 1 FROM pg_database WHERE datname='suite'"], check=True, capture_output=True, text=True
        ).stdout.strip()
        == "1"
    )
    if not exists:
        subprocess.run(psql + ["CREATE DATABASE suite"], check=True, capture_output=True)


def stop_postgres() -> None:
    if (PG_DATA / "postmaster.pid").exists():
        subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(PG_DATA), "-m", "fast", "-w", "stop"]), capture_output=True
        )


def infra_procfile() -> str:
    lines = [
        f"redis: redis-server --port {REDIS_PORT} --bind {HOST} --save '' --appendonly no",
        f"aws: {VENV_BIN / 'moto_server'} -H {HOST} -p {AWS_PORT}",
    ]
    prometheus = shutil.which("prometheus")
    if prometheus:
        config = write_prometheus_config()
        lines.append(
            f"prometheus: {prometheus} --config.file={config} --storage.tsdb.path={STATE / 'prometheus'}"
            f" --web.listen-address={HOST}:{PROMETHEUS_PORT}"
        )
    return "\n".join(lines) + "\n"


def write_prometheus_config() -> Path:
    """The compose scrape configuration (one job per service), pointed at the local ports."""
    jobs = "".join(
        f"  - job_name: {s.name}\n    static_configs:\n      - targets: ['{HOST}:{s.port}']\n" for s in SERVICES
    )
    config = STATE / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 5s\nscrape_configs:\n{jobs}")
    return config


def services_procfile() -> str:
    lines = []
    for service in SERVICES:
        metrics_dir = STATE / "metrics" / service.name
        lines.append(
            f"{service.name}: cd {ROOT / service.name} && PORT={service.port} "
            f"PROMETHEUS_MULTIPROC_DIR={metrics_dir} {VENV_BIN / 'gunicorn'} -c gunicorn.conf.py"
        )
        for name, command in service.extra_processes:
            lines.append(f"{name}: cd {ROOT / service.name} && {command}")
    return "\n".join(lines) + "\n"


def start_honcho(phase: str, procfile: str, env: dict[str, str]) -> int:
    path = STATE / f"Procfile.{phase}"
    path.write_text(procfile)
    log = open(LOGS / f"{phase}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [str(VENV_BIN / "honcho"), "-f", str(path), "-d", str(ROOT), "start"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    (STATE / f"{phase}.pid").write_text(str(proc.pid))
    return proc.pid


def record_children(phase: str) -> None:
    pid = int((STATE / f"{phase}.pid").read_text())
    (STATE / f"{phase}.children").write_text("\n".join(str(p) for p in descendants(pid)))


def phase_running(phase: str) -> bool:
    pid_file = STATE / f"{phase}.pid"
    return pid_file.exists() and alive(int(pid_file.read_text()))


def stop_phase(phase: str, timeout: float = 20.0) -> None:
    pid_file = STATE / f"{phase}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    recorded = (
        {int(p) for p in (STATE / f"{phase}.children").read_text().split()}
        if (STATE / f"{phase}.children").exists()
        else set()
    )
    pids = {pid, *recorded, *(descendants(pid) if alive(pid) else [])}
    for target in sorted(pids):
        try:
            os.kill(target, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for target in pids:
        if alive(target):
            os.kill(target, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    (STATE / f"{phase}.children").unlink(missing_ok=True)


def provision_aws(env: dict[str, str]) -> None:
    """What the terraform one-shot does in compose: the DynamoDB table and the log bucket."""
    subprocess.run([sys.executable, str(ROOT / "scripts/provision_aws.py")], check=True, env={**os.environ, **env})


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "suite-db"), "upgrade"], check=True, env={**os.environ, **env})


def readiness_table() -> tuple[str, bool]:
    rows, ready = [], True
    for service in SERVICES:
        base = f"http://{HOST}:{service.port}"
        status = http_status(f"{base}/readyz")
        state = "ready" if status == 200 else ("not ready" if status else "down")
        ready &= status == 200
        rows.append((service.name, base, state))
    extra = [
        ("postgres", f"postgresql://postgres@{HOST}:{PG_PORT}/suite", port_open(PG_PORT)),
        ("redis", f"redis://{HOST}:{REDIS_PORT}", port_open(REDIS_PORT)),
        ("aws (moto)", f"http://{HOST}:{AWS_PORT}", port_open(AWS_PORT)),
        ("prometheus", f"http://{HOST}:{PROMETHEUS_PORT}", port_open(PROMETHEUS_PORT)),
    ]
    rows += [(name, url, "up" if up else "down") for name, url, up in extra]
    width = max(len(r[1]) for r in rows)
    text = "\n".join(f"  {name:<20} {url:<{width}}  {state}" for name, url, state in rows)
    return text, ready


def wait_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(http_status(f"http://{HOST}:{s.port}/readyz") == 200 for s in SERVICES):
            return True
        time.sleep(0.5)
    return False


# --- commands --------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    print("No Docker engine answered: starting the local stack (every service as a process on 127.0.0.1).", flush=True)
    STATE.mkdir(exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    if phase_running("services"):
        print("The local stack is already running.")
        return cmd_status(args)
    env = stack_env()
    start_postgres()
    if not phase_running("infra"):
        start_honcho("infra", infra_procfile(), env)
    wait_port(REDIS_PORT, 20, "redis")
    wait_port(AWS_PORT, 30, "moto")
    record_children("infra")
    print("backing servers up (postgres, redis, moto); applying migrations...", flush=True)
    migrate(env)
    provision_aws(env)
    shutil.rmtree(STATE / "metrics", ignore_errors=True)
    start_honcho("services", services_procfile(), env)
    print(f"services starting; waiting up to {args.timeout:.0f}s for every /readyz...", flush=True)
    ready = wait_ready(args.timeout)
    record_children("services")
    table, _ = readiness_table()
    print(table)
    if not ready:
        tail = (LOGS / "services.log").read_text(errors="replace").splitlines()[-25:]
        print("\n".join(tail), file=sys.stderr)
        print(f"some services are not ready; see `make logs` ({LOGS})", file=sys.stderr)
        return 1
    print("The stack runs in the background: `make status`, `make logs`, `make down`.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stop_phase("services")
    stop_phase("infra")
    stop_postgres()
    print("local stack stopped")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    table, ready = readiness_table()
    print(table)
    return 0 if ready else 1


def cmd_logs(args: argparse.Namespace) -> int:
    files = sorted(str(p) for p in LOGS.glob("*.log")) if LOGS.exists() else []
    if not files:
        print("no logs yet: start the stack with `make up`")
        return 0
    os.execvp("tail", ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []), *files])
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    env = stack_env()
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    migrate(env)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    service = SERVICE_BY_NAME.get(args.service)
    if service is None:
        print(f"unknown service {args.service!r}; one of: {', '.join(SERVICE_BY_NAME)}", file=sys.stderr)
        return 2
    env = {**stack_env(), **os.environ, "PORT": str(service.port)}
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(STATE / "metrics" / f"{service.name}-foreground"))
    os.chdir(ROOT / service.name)
    gunicorn = str(VENV_BIN / "gunicorn")
    os.execve(gunicorn, [gunicorn, "-c", "gunicorn.conf.py"], env)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """The audit consumer as a process of its own: for a shared store (AUDIT_STORE=mongo).

    With the local stack's in-memory store the consumer runs inside audit-worker's web process, and
    this command says so and stops.
    """
    env = {**stack_env(), "JOBS_WORKER_PORT": "8015", **os.environ}
    os.chdir(ROOT / "audit-worker")
    # argv[0] must be the venv's interpreter: Python finds its environment from it.
    python = str(VENV_BIN / "python")
    os.execve(python, [python, "-m", "audit_worker.consumer"], env)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up")
    up.add_argument("--timeout", type=float, default=120.0)
    sub.add_parser("down")
    sub.add_parser("status")
    logs = sub.add_parser("logs")
    logs.add_argument("--lines", type=int, default=100)
    logs.add_argument("--follow", action=argparse.BooleanOptionalAction, default=sys.stdout.isatty())
    sub.add_parser("migrate")
    run = sub.add_parser("run")
    run.add_argument("service")
    sub.add_parser("worker")
    args = parser.parse_args(argv)
    handlers = {
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "logs": cmd_logs,
        "migrate": cmd_migrate,
        "run": cmd_run,
        "worker": cmd_worker,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
