"""The local stack: the whole suite as processes on 127.0.0.1 when no Docker engine answers.

    python scripts/localstack.py up|down|status|restart NAME|logs|migrate|run SERVICE|worker|serve-aws

Backing servers are real where they can be had here (Postgres, Redis, moto's AWS server, Prometheus,
MailDev) and the documented stand-ins where they cannot (event bus on Redis Streams instead of Pub/Sub,
the audit trail in Postgres schema `audit` instead of MongoDB).

Every process runs under supervisord, as Compose runs containers: each restarts on its own when it
dies (with its own restart policy and backoff), one process dying stops nothing else, and
`supervisorctl` (or `restart NAME`) stops and starts one at a time. `processes()` below is the whole
process list: a new process is one line there; the services and their ports come from the service catalogue
(localstack_catalogue.py, which `make generate` writes from infra/services.py). The infrastructure group
starts first; the services group starts after migrations. State (database, Redis's append-only file, the AWS
twin's journal and snapshot, MailDev's inbox, logs, supervisord's socket, generated secrets) lives in .local/;
`make clean` removes it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client  # nosec B411  # only our own supervisord, over its 0700 unix socket
from dataclasses import dataclass, field
from pathlib import Path

import localstack_catalogue as catalogue

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SUITE_STATE_DIR") or ROOT / ".local")
LOGS = STATE / "logs"  # servicekit's JSON logs, LOG_DIR/<service>.log
PROCESS_LOGS = LOGS / "processes"  # what each supervised process prints, <name>.log


def _postgres_data() -> Path:
    """STATE/postgres, unless Postgres's user cannot reach it. Run as root, the server runs as the user
    postgres, which cannot enter a checkout in a private home (/root, a 0700 /home/<you>): then the cluster
    lives in a folder of this checkout's own under that user's home, and STATE/postgres links to it."""
    inside = STATE / "postgres"
    if os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in STATE.absolute().parents if p.exists()):
        return inside
    try:
        import hashlib
        import pwd

        home = Path(pwd.getpwnam("postgres").pw_dir)
    except (KeyError, ImportError):
        return inside
    return home / "trucking-suite" / hashlib.sha256(str(STATE.absolute()).encode()).hexdigest()[:12]


PG_DATA = _postgres_data()
REDIS_DATA = STATE / "redis"
AWS_DATA = STATE / "aws"
MAILDEV_DATA = STATE / "maildev"
SUPERVISOR_CONF = STATE / "supervisord.conf"
SUPERVISOR_SOCK = STATE / "supervisor.sock"
SUPERVISOR_PID = STATE / "supervisord.pid"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
MAILDEV = ROOT / ".tools/maildev/node_modules/.bin/maildev"

PG_PORT, REDIS_PORT, AWS_PORT, PROMETHEUS_PORT = 5432, 6379, 4566, 9090
LOADBOARD_SIM_PORT = catalogue.LOADBOARD_SIM_PORT
RELAY_METRICS_PORT = catalogue.RELAY_METRICS_PORT
DASHBOARDS_PORT = 3000  # Grafana's port under compose: the dashboards are at the same address either way
SMTP_PORT, INBOX_PORT = 1025, 8025


@dataclass(frozen=True)
class Service:
    name: str
    port: int


SERVICES = tuple(Service(name, port) for name, port in catalogue.SERVICES)
SERVICE_BY_NAME = {s.name: s for s in SERVICES}


@dataclass(frozen=True)
class Process:
    """One supervised process. `group` is infra (started first) or services (after migrations)."""

    name: str
    command: str
    group: str = "services"
    directory: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    # Seconds it must stay up to count as started; failed starts are retried `retries` times, waiting
    # one second longer after each (supervisord's backoff), then the process is FATAL (see `make status`).
    startsecs: int = 3
    retries: int = 10
    stopsignal: str = "TERM"
    stopwaitsecs: int = 20
    stop_group: bool = True  # signal the whole process group (gunicorn's workers too)
    user: str | None = None
    requires: Path | None = None  # skipped, with a line saying so, when this file is missing


def gunicorn(service: Service) -> Process:
    return Process(
        service.name,
        f"{VENV_BIN / 'gunicorn'} -c gunicorn.conf.py",
        directory=ROOT / service.name,
        env={"PORT": str(service.port), "PROMETHEUS_MULTIPROC_DIR": str(STATE / "metrics" / service.name)},
    )


def processes() -> list[Process]:
    """Every process of the local stack, in start order."""
    prometheus = shutil.which("prometheus")
    return [
        Process(
            "postgres",
            f"{pg_bin('postgres')} -D {PG_DATA} -p {PG_PORT} -k {PG_DATA} -c listen_addresses={HOST}"
            # terse: an error line names the constraint, without the DETAIL that quotes a row's values.
            " -c max_connections=200 -c log_error_verbosity=terse",
            group="infra",
            directory=Path("/"),  # the user postgres may not enter the checkout (see _postgres_data)
            stopsignal="INT",  # fast shutdown: rolls back open transactions, then exits
            stopwaitsecs=30,
            stop_group=False,  # the postmaster stops its own children
            user="postgres" if os.geteuid() == 0 else None,
        ),
        # The append-only file (fsync on every write) keeps the event streams and the consumer groups
        # through a restart of Redis: a killed Redis loses no event.
        Process(
            "redis",
            f"redis-server --port {REDIS_PORT} --bind {HOST} --dir {REDIS_DATA} --save '' --appendonly yes"
            " --appendfsync always",
            group="infra",
        ),
        # The AWS twin keeps DynamoDB and S3 in .local/aws (a journal on disk before each answer, and a snapshot
        # written at stop, which may take a while after a big day); serve-aws provisions the table and bucket when
        # they are missing.
        Process(
            "aws", f"{VENV_BIN / 'python'} {ROOT / 'scripts/localstack.py'} serve-aws", group="infra", stopwaitsecs=120
        ),
        *(
            [
                Process(
                    "prometheus",
                    f"{prometheus} --config.file={STATE / 'prometheus.yml'} --storage.tsdb.path={STATE / 'prometheus'}"
                    f" --web.listen-address={HOST}:{PROMETHEUS_PORT}",
                    group="infra",
                )
            ]
            if prometheus
            else []
        ),
        # The inbox is kept in .local/maildev (one .eml per message, written before SMTP's answer).
        Process(
            "maildev",
            f"{MAILDEV} --smtp {SMTP_PORT} --web {INBOX_PORT} --ip {HOST} --mail-directory {MAILDEV_DATA}",
            group="infra",
            requires=MAILDEV,
        ),
        *(gunicorn(service) for service in SERVICES),
        # The outbox relay publishes fleet events written in fleet-api's transactions to the bus.
        Process(
            "fleet-relay",
            f"{VENV_BIN / 'python'} -m fleet_api.relay",
            directory=ROOT / "fleet-api",
            env={"RELAY_METRICS_PORT": str(RELAY_METRICS_PORT), "RELAY_METRICS_ADDRESS": HOST},
        ),
        # The Grafana dashboards drawn from Prometheus (Grafana needs Docker): a page is drawn when asked for.
        *(
            [
                Process(
                    "dashboards",
                    f"{VENV_BIN / 'python'} {ROOT / 'scripts/dashboards.py'} --prometheus http://{HOST}:{PROMETHEUS_PORT}"
                    f" serve --host {HOST} --port {DASHBOARDS_PORT} --out {STATE / 'dashboards'}",
                )
            ]
            if prometheus
            else []
        ),
        # The two loadboard portals' stand-in, which the extraction runs log into.
        Process(
            "loadboard-sim",
            f"{VENV_BIN / 'gunicorn'} -c gunicorn.loadboard-sim.conf.py",
            directory=ROOT / "automation-service",
            env={"PORT": str(LOADBOARD_SIM_PORT)},
        ),
    ]


def enabled_processes() -> list[Process]:
    return [p for p in processes() if p.requires is None or p.requires.exists()]


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
            "AUTH_REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/2",
            "JOBS_PROVIDER": "redis",
            "JOBS_REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/1",
            # Durable, and shared by every audit-worker process (schema audit of DATABASE_URL).
            "AUDIT_STORE": "postgres",
            "AWS_ENDPOINT_URL": f"http://{HOST}:{AWS_PORT}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "STORAGE_PROVIDER": "local",
            "STORAGE_LOCAL_ROOT": str(STATE / "storage"),
            **catalogue.ADDRESSES,
            "LOG_DIR": str(LOGS),
            "HOST": HOST,
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if MAILDEV.exists():
        env.update({"SMTP_HOST": HOST, "SMTP_PORT": str(SMTP_PORT)})
    return env


# --- small utilities -------------------------------------------------------------------------------


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((HOST, port)) == 0


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready within {timeout:.0f}s; see {LOGS}")
        time.sleep(0.2)


def http_status(url: str, timeout: float = 3) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URLs only  # nosec B310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def redis_pings() -> bool:
    """A real PING: a frozen Redis accepts TCP connections but never answers."""
    try:
        with socket.create_connection((HOST, REDIS_PORT), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def postgres_answers() -> bool:
    ready = subprocess.run(
        [pg_bin("pg_isready"), "-h", HOST, "-p", str(PG_PORT), "-t", "2"], capture_output=True, check=False
    )
    return ready.returncode == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


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


# --- supervisord -----------------------------------------------------------------------------------


def supervisor() -> xmlrpc.client.ServerProxy:
    """supervisord's XML-RPC interface on its unix socket (what supervisorctl speaks)."""
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{SUPERVISOR_SOCK}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def supervisor_running() -> bool:
    if not SUPERVISOR_SOCK.exists():
        return False
    try:
        return supervisor().supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault):
        return False


def process_info() -> list[dict]:
    return supervisor().supervisor.getAllProcessInfo()


def _quote(value: str) -> str:
    return '"' + value.replace("%", "%%").replace('"', '\\"') + '"'


def supervisor_config(procs: list[Process]) -> str:
    lines = [
        "; generated by scripts/localstack.py on every `up`: edit PROCESSES there, not this file",
        "[unix_http_server]",
        f"file={SUPERVISOR_SOCK}",
        "chmod=0700",
        "[supervisord]",
        f"logfile={LOGS / 'supervisord.log'}",
        f"pidfile={SUPERVISOR_PID}",
        f"childlogdir={LOGS}",
        f"directory={ROOT}",
        "nodaemon=false",
        "silent=true",
        *(["user=root"] if os.geteuid() == 0 else []),
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]",
        f"serverurl=unix://{SUPERVISOR_SOCK}",
    ]
    for group in ("infra", "services"):
        members = [p.name for p in procs if p.group == group]
        lines += [f"[group:{group}]", f"programs={','.join(members)}"]
    for p in procs:
        lines += [
            f"[program:{p.name}]",
            f"command={p.command.replace('%', '%%')}",
            f"directory={p.directory}",
            # Infrastructure starts with supervisord; services once migrations have run (see cmd_up).
            f"autostart={'true' if p.group == 'infra' else 'false'}",
            "autorestart=true",
            f"startsecs={p.startsecs}",
            f"startretries={p.retries}",
            f"stopsignal={p.stopsignal}",
            f"stopwaitsecs={p.stopwaitsecs}",
            f"stopasgroup={'true' if p.stop_group else 'false'}",
            f"killasgroup={'true' if p.stop_group else 'false'}",
            "redirect_stderr=true",
            f"stdout_logfile={PROCESS_LOGS / (p.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
        ]
        if p.user:
            lines.append(f"user={p.user}")
        if p.env:
            lines.append("environment=" + ",".join(f"{k}={_quote(v)}" for k, v in p.env.items()))
    return "\n".join(lines) + "\n"


def start_supervisor(env: dict[str, str], procs: list[Process]) -> None:
    SUPERVISOR_CONF.write_text(supervisor_config(procs))
    SUPERVISOR_SOCK.unlink(missing_ok=True)
    subprocess.run(
        [str(VENV_BIN / "supervisord"), "-c", str(SUPERVISOR_CONF)],
        check=True,
        env={**os.environ, **env},
        cwd=ROOT,
    )
    wait_for(supervisor_running, 15, "supervisord")


def wait_running(names: list[str], timeout: float) -> None:
    def all_running() -> bool:
        states = {i["name"]: i["statename"] for i in process_info()}
        fatal = [n for n in names if states.get(n) == "FATAL"]
        if fatal:
            raise SystemExit(f"{', '.join(fatal)} could not start; see {PROCESS_LOGS}/<name>.log")
        return all(states.get(n) == "RUNNING" for n in names)

    wait_for(all_running, timeout, "processes " + ", ".join(names))


# --- phases ----------------------------------------------------------------------------------------


def init_postgres() -> None:
    if (PG_DATA / "PG_VERSION").exists():
        return
    PG_DATA.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(PG_DATA, "postgres", "postgres")
    if PG_DATA != STATE / "postgres" and not (STATE / "postgres").is_symlink():
        STATE.mkdir(parents=True, exist_ok=True)
        (STATE / "postgres").symlink_to(PG_DATA)
    subprocess.run(
        as_postgres(
            [pg_bin("initdb"), "-D", str(PG_DATA), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
        cwd="/",
    )


def create_database() -> None:
    psql = ["psql", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "-tAc"]
    exists = subprocess.run(
        psql + ["SELECT 1 FROM pg_database WHERE datname='suite'"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if exists != "1":
        subprocess.run(psql + ["CREATE DATABASE suite"], check=True, capture_output=True)


def write_prometheus_config() -> Path:
    """The compose scrape configuration (one job per service and the relay) and its recording rules and
    alerts (infra/prometheus), pointed at the local ports."""
    targets = [(s.name, s.port) for s in SERVICES] + [("fleet-relay", RELAY_METRICS_PORT)]
    jobs = "".join(
        f"  - job_name: {name}\n    static_configs:\n      - targets: ['{HOST}:{port}']\n" for name, port in targets
    )
    rules = "".join(f"  - {ROOT / 'infra/prometheus' / name}\n" for name in ("rules.yml", "alerts.yml"))
    config = STATE / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\nrule_files:\n{rules}scrape_configs:\n{jobs}"
    )
    return config


def provision_aws(env: dict[str, str]) -> None:
    """What the terraform one-shot does in compose: the DynamoDB table and the log bucket."""
    subprocess.run([sys.executable, str(ROOT / "scripts/provision_aws.py")], check=True, env={**os.environ, **env})


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "suite-db"), "upgrade"], check=True, env={**os.environ, **env})


def infra_checks() -> list[tuple[str, str, bool]]:
    checks = [
        ("postgres", f"postgresql://postgres@{HOST}:{PG_PORT}/suite", postgres_answers()),
        ("redis", f"redis://{HOST}:{REDIS_PORT}", redis_pings()),
        ("aws (moto)", f"http://{HOST}:{AWS_PORT}", http_status(f"http://{HOST}:{AWS_PORT}/") is not None),
    ]
    if shutil.which("prometheus"):
        url = f"http://{HOST}:{PROMETHEUS_PORT}"
        checks.append(("prometheus", url, http_status(f"{url}/-/ready") == 200))
        url = f"http://{HOST}:{DASHBOARDS_PORT}"
        checks.append(("dashboards", url, http_status(f"{url}/healthz") == 200))
    if MAILDEV.exists():
        url = f"http://{HOST}:{INBOX_PORT}"
        checks.append(("maildev (inbox)", url, http_status(f"{url}/api/healthz") == 200))
    return checks


def readiness_table() -> tuple[str, bool]:
    states: dict[str, str] = {}
    if supervisor_running():
        states = {i["name"]: i["statename"] for i in process_info()}
    rows, ready = [], True
    for service in SERVICES:
        base = f"http://{HOST}:{service.port}"
        status = http_status(f"{base}/readyz")
        state = "ready" if status == 200 else ("not ready" if status else "down")
        ready &= status == 200
        rows.append((service.name, base, state))
    for name, url, up in infra_checks():
        ready &= up
        rows.append((name, url, "up" if up else "down"))
    width = max(len(r[1]) for r in rows)
    lines = [f"  {'process':<20} {'url':<{width}}  {'check':<10} supervisor"]
    for name, url, state in rows:
        key = name.split(" ")[0]
        lines.append(f"  {name:<20} {url:<{width}}  {state:<10} {states.get(key, '-')}")
    for name in sorted(set(states) - {r[0].split(" ")[0] for r in rows}):
        lines.append(f"  {name:<20} {'':<{width}}  {'':<10} {states[name]}")
    return "\n".join(lines), ready


def wait_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(http_status(f"http://{HOST}:{s.port}/readyz") == 200 for s in SERVICES):
            return True
        time.sleep(0.5)
    return False


def urls_line() -> str:
    parts = []
    if shutil.which("prometheus"):
        parts.append(f"Prometheus: http://{HOST}:{PROMETHEUS_PORT}")
        parts.append(
            f"Dashboards: http://{HOST}:{DASHBOARDS_PORT}/ (the Grafana dashboards drawn from Prometheus;"
            " `make dashboards` writes them to files)"
        )
    if MAILDEV.exists():
        parts.append(f"mail inbox (MailDev): http://{HOST}:{INBOX_PORT} (SMTP {HOST}:{SMTP_PORT})")
    else:
        parts.append("mail inbox: MailDev not installed (`make test-tools`), e-mail is logged only")
    return "\n".join(parts)


# --- commands --------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    print("No Docker engine answered: starting the local stack (every service as a process on 127.0.0.1).", flush=True)
    for path in (STATE, LOGS, PROCESS_LOGS, REDIS_DATA, MAILDEV_DATA):
        path.mkdir(parents=True, exist_ok=True)
    if supervisor_running():
        print("The local stack is already running.")
        return cmd_status(args)
    procs = enabled_processes()
    for skipped in set(p.name for p in processes()) - set(p.name for p in procs):
        print(f"skipping {skipped}: {next(p.requires for p in processes() if p.name == skipped)} is not installed")
    env = stack_env()
    init_postgres()
    write_prometheus_config()
    shutil.rmtree(STATE / "metrics", ignore_errors=True)
    for service in SERVICES:
        (STATE / "metrics" / service.name).mkdir(parents=True)
    start_supervisor(env, procs)
    infra = [p.name for p in procs if p.group == "infra"]
    wait_running(infra, 60)
    wait_for(postgres_answers, 30, "postgres")
    wait_for(redis_pings, 20, "redis")
    wait_for(lambda: port_open(AWS_PORT), 30, "moto")
    print(f"backing servers up ({', '.join(infra)}); applying migrations...", flush=True)
    create_database()
    migrate(env)
    provision_aws(env)
    supervisor().supervisor.startProcessGroup("services", False)
    print(f"services starting; waiting up to {args.timeout:.0f}s for every /readyz...", flush=True)
    ready = wait_ready(args.timeout)
    table, _ = readiness_table()
    print(table)
    if not ready:
        for service in SERVICES:
            log = PROCESS_LOGS / f"{service.name}.log"
            if http_status(f"http://{HOST}:{service.port}/readyz") != 200 and log.exists():
                print(f"--- {log}", *log.read_text(errors="replace").splitlines()[-15:], sep="\n", file=sys.stderr)
        print(f"some services are not ready; see `make logs` ({LOGS})", file=sys.stderr)
        return 1
    print(urls_line())
    print("Processes run under supervisord: `make status`, `make restart SERVICE=...`, `make logs`, `make down`.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    if supervisor_running():
        pids = {int(SUPERVISOR_PID.read_text())} if SUPERVISOR_PID.exists() else set()
        for info in process_info():
            if info["pid"]:
                pids.add(info["pid"])
                pids.update(descendants(info["pid"]))
        # Services first (they use the infrastructure), then the rest; supervisord exits last.
        try:
            supervisor().supervisor.stopProcessGroup("services", True)
        except xmlrpc.client.Fault:
            pass
        supervisor().supervisor.shutdown()
        deadline = time.monotonic() + 60
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in pids if alive(p)]
        for pid in left:
            os.kill(pid, 9)
        if left:
            print(f"killed {len(left)} processes that did not stop in time: {left}", file=sys.stderr)
    if (PG_DATA / "postmaster.pid").exists() and postgres_answers():
        # A Postgres left by an earlier stack version (not under supervisord).
        subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(PG_DATA), "-m", "fast", "-w", "stop"]), check=False, cwd="/"
        )
    SUPERVISOR_SOCK.unlink(missing_ok=True)
    print("local stack stopped")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    if not supervisor_running():
        print("the local stack is not running (`make up`)")
    table, ready = readiness_table()
    print(table)
    return 0 if ready else 1


def cmd_restart(args: argparse.Namespace) -> int:
    if not supervisor_running():
        print("the local stack is not running (`make up`)", file=sys.stderr)
        return 1
    names = {p.name for p in enabled_processes()}
    if args.name not in names | {"infra", "services"}:
        print(f"unknown process {args.name!r}; one of: {', '.join(sorted(names))}", file=sys.stderr)
        return 2
    rpc = supervisor().supervisor
    target = f"{args.name}:*" if args.name in ("infra", "services") else args.name
    if target.endswith(":*"):
        rpc.stopProcessGroup(args.name, True)
        rpc.startProcessGroup(args.name, True)
    else:
        group = next(p.group for p in enabled_processes() if p.name == args.name)
        full = f"{group}:{args.name}"
        if rpc.getProcessInfo(full)["statename"] in ("RUNNING", "STARTING", "BACKOFF"):
            rpc.stopProcess(full, True)
        rpc.startProcess(full, True)
    print(f"restarted {args.name}")
    service = SERVICE_BY_NAME.get(args.name)
    if service is not None:
        wait_for(lambda: http_status(f"http://{HOST}:{service.port}/readyz") == 200, 60, args.name)
        print(f"{args.name} is ready")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    files = sorted(str(p) for p in PROCESS_LOGS.glob("*.log")) if PROCESS_LOGS.exists() else []
    if args.name:
        files = [str(PROCESS_LOGS / f"{args.name}.log")]
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


def cmd_serve_aws(args: argparse.Namespace) -> int:
    """The AWS twin (testkit.aws_twin: moto with DynamoDB's atomicity, its state in .local/aws) in the
    foreground; the table and bucket are provisioned when missing."""
    import signal
    import threading

    from testkit.aws_twin import describe, make_twin
    from testkit.aws_twin_store import TwinStateError

    print(f"AWS twin: loading its state from {AWS_DATA}", flush=True)
    try:
        twin = make_twin(HOST, AWS_PORT, state_dir=AWS_DATA)
    except TwinStateError as exc:
        print(f"AWS twin: {exc}", file=sys.stderr, flush=True)
        return 2
    serving = threading.Thread(target=twin.serve_forever, daemon=True)
    serving.start()
    provision_aws({"AWS_ENDPOINT_URL": f"http://{HOST}:{AWS_PORT}"})
    print(f"AWS twin serving on {HOST}:{AWS_PORT}, state in {AWS_DATA}: {describe(twin.opened)}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    twin.shutdown()
    # Without the interpreter's teardown, in which moto's S3 objects complain about closing their buffers.
    sys.stdout.flush()
    os._exit(0)


def cmd_run(args: argparse.Namespace) -> int:
    service = SERVICE_BY_NAME.get(args.service)
    if service is None:
        print(f"unknown service {args.service!r}; one of: {', '.join(SERVICE_BY_NAME)}", file=sys.stderr)
        return 2
    env = {**stack_env(), **os.environ, "PORT": str(service.port)}
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(STATE / "metrics" / f"{service.name}-foreground"))
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT / service.name)
    gunicorn_bin = str(VENV_BIN / "gunicorn")
    os.execve(gunicorn_bin, [gunicorn_bin, "-c", "gunicorn.conf.py"], env)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """The audit consumer as a process of its own, on the stack's shared store (AUDIT_STORE=postgres)."""
    env = {**stack_env(), "JOBS_WORKER_PORT": str(catalogue.WORKER_HEALTH_PORT), **os.environ}
    os.chdir(ROOT / "audit-worker")
    # argv[0] must be the venv's interpreter: Python finds its environment from it.
    python = str(VENV_BIN / "python")
    os.execve(python, [python, "-m", "audit_worker.consumer"], env)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up")
    # Six gunicorn masters booting at once on two busy cores have taken over two minutes here.
    up.add_argument("--timeout", type=float, default=float(os.environ.get("LOCALSTACK_READY_SECONDS", "300")))
    sub.add_parser("down")
    sub.add_parser("status")
    restart = sub.add_parser("restart")
    restart.add_argument("name", help="a process (fleet-api, fleet-relay, redis...) or a group (infra, services)")
    logs = sub.add_parser("logs")
    logs.add_argument("name", nargs="?", help="one process's log only")
    logs.add_argument("--lines", type=int, default=100)
    logs.add_argument("--follow", action=argparse.BooleanOptionalAction, default=sys.stdout.isatty())
    sub.add_parser("migrate")
    run = sub.add_parser("run")
    run.add_argument("service")
    sub.add_parser("worker")
    sub.add_parser("serve-aws")
    args = parser.parse_args(argv)
    handlers = {
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "restart": cmd_restart,
        "logs": cmd_logs,
        "migrate": cmd_migrate,
        "run": cmd_run,
        "worker": cmd_worker,
        "serve-aws": cmd_serve_aws,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
