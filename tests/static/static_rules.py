"""The suite's rules for docker-compose.yml, the Dockerfiles and .env.example, as functions listing problems.

Each rule returns the problems it finds (an empty list when all is well), so the tests can run it on the
real files and on deliberately broken copies, which shows that the rule can fail.
"""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# infra/ imports its modules by their names (as infra/generate.py runs them).
if str(ROOT / "infra") not in sys.path:
    sys.path.insert(0, str(ROOT / "infra"))

import services as catalogue  # noqa: E402  # infra/services.py: the one place a port is written

# The six services and their ports.
SERVICES = {s.name: s.port for s in catalogue.SERVICES}
# Only what a person uses publishes a port, and on these numbers.
PUBLISHED = {**SERVICES, "grafana": 3000, "prometheus": 9090, "mailpit": 8025}
BACKING = {
    "postgres",
    "migrations",
    "redis",
    "mongo",
    "pubsub-emulator",
    "pubsub-provision",
    "localstack",
    "terraform",
    "loadboard-sim",
    "mailpit",
    "prometheus",
    "grafana",
}
CONDITIONS = {"service_healthy", "service_completed_successfully"}
INTERNAL_NETWORK = "app"
UV_IMAGE = "ghcr.io/astral-sh/uv:0.13.9"

_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS?|ACCESS_KEY|SERVICE_ACCOUNT_JSON)$")
_SECRET_LOOKING = [
    re.compile(r"://[^\s/:@${}]+:[^\s/@${}]+@"),  # a URL with a password in it
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]
# `$${X}` is an escaped dollar: the container's shell expands it, not compose.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


# --- helpers ---------------------------------------------------------------------------------------


def is_secret_name(name: str) -> bool:
    """JWT_SECRET, SMTP_PASSWORD, GITHUB_TOKEN... and their _FILE forms; not OPENAI_MAX_OUTPUT_TOKENS."""
    return bool(_SECRET_NAME.search(name.upper().removesuffix("_FILE").removesuffix("_")))


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def secret_refs(service: dict) -> list[str]:
    return [s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []]


def network_names(service: dict) -> list[str]:
    networks = service.get("networks") or []
    return list(networks) if isinstance(networks, (list, dict)) else []


def is_one_shot(service: dict) -> bool:
    return str(service.get("restart")) == "no"


def published_ports(service: dict) -> list[tuple[int, int]]:
    """(host, container) pairs; the host address part may hold an interpolation with colons."""
    pairs = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            pairs.append((int(port["published"]), int(port["target"])))
        else:
            parts = str(port).rsplit(":", 2)
            container = int(parts[-1].split("/")[0])
            host = int(parts[-2]) if len(parts) >= 2 else container
            pairs.append((host, container))
    return pairs


def image_is_pinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    if digest:
        return bool(re.fullmatch(r"sha256:[0-9a-f]{64}", digest))
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:  # no tag at all (a colon before a slash is a registry port)
        return False
    return tag != "latest" and not tag.startswith("latest") and bool(re.search(r"\d|^local$", tag))


# --- compose rules ---------------------------------------------------------------------------------


def check_services_present(compose: dict) -> list[str]:
    missing = (set(SERVICES) | BACKING) - set(compose.get("services", {}))
    return [f"service {name} is missing" for name in sorted(missing)]


def check_healthchecks(compose: dict) -> list[str]:
    problems = []
    for name, svc in compose["services"].items():
        if "restart" not in svc:
            problems.append(f'{name}: declare restart (unless-stopped, or "no" for a one-shot)')
        elif not is_one_shot(svc):
            check = svc.get("healthcheck") or {}
            if check.get("disable") or not check.get("test"):
                problems.append(f"{name}: a long-running service needs a healthcheck")
    return problems


def check_depends_on(compose: dict) -> list[str]:
    services = compose["services"]
    problems = []
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on must name a condition for each dependency")
            continue
        for target, spec in deps.items():
            condition = (spec or {}).get("condition")
            if target not in services:
                problems.append(f"{name}: depends_on {target}, which is not a service")
                continue
            if condition not in CONDITIONS:
                problems.append(f"{name}: depends_on {target} with condition {condition!r}")
            elif condition == "service_healthy" and (
                not (services[target].get("healthcheck") or {}).get("test")
                or (services[target].get("healthcheck") or {}).get("disable")
            ):
                problems.append(f"{name}: waits for {target} to be healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and not is_one_shot(services[target]):
                problems.append(f"{name}: waits for {target} to complete, but it is not a one-shot")
    return problems


def check_networks(compose: dict) -> list[str]:
    defined = compose.get("networks") or {}
    problems = []
    if not (defined.get(INTERNAL_NETWORK) or {}).get("internal"):
        problems.append(f"network {INTERNAL_NETWORK} must be internal: true")
    used = set()
    for name, svc in compose["services"].items():
        nets = network_names(svc)
        used.update(nets)
        if INTERNAL_NETWORK not in nets:
            problems.append(f"{name}: not on the internal network {INTERNAL_NETWORK}")
        problems += [f"{name}: network {n} is not defined" for n in nets if n not in defined]
        if svc.get("ports") and nets == [INTERNAL_NETWORK]:
            problems.append(f"{name}: publishes ports but is only on the internal network")
    problems += [f"network {n} is defined but unused" for n in defined if n not in used]
    return problems


def check_volumes(compose: dict) -> list[str]:
    defined = compose.get("volumes") or {}
    used, problems = set(), []
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            if not source or source.startswith((".", "/", "~", "$")):
                continue
            used.add(source)
            if source not in defined:
                problems.append(f"{name}: volume {source} is not defined")
    problems += [f"volume {v} is defined but unused" for v in defined if v not in used]
    services = compose["services"]
    for name in SERVICES:
        mounts = [str(v) for v in services.get(name, {}).get("volumes") or []]
        if not any(m.startswith("logs:") for m in mounts):
            problems.append(f"{name}: does not mount the shared logs volume")
    return problems


def check_secrets(compose: dict) -> list[str]:
    defined = compose.get("secrets") or {}
    problems, used = [], set()
    for secret, spec in defined.items():
        path = (spec or {}).get("file", "")
        if not re.fullmatch(r"\./secrets/[a-z0-9_]+\.txt", path):
            problems.append(f"secret {secret}: must come from a file ./secrets/<name>.txt, not {spec!r}")
    for name, svc in compose["services"].items():
        refs = secret_refs(svc)
        used.update(refs)
        problems += [f"{name}: secret {s} is not defined" for s in refs if s not in defined]
        for key, value in environment(svc).items():
            match = re.fullmatch(r"/run/secrets/([a-z0-9_]+)", value)
            if match and match.group(1) not in refs:
                problems.append(f"{name}: {key} reads secret {match.group(1)}, which it does not mount")
    problems += [f"secret {s} is defined but unused" for s in defined if s not in used]
    return problems


def check_images(compose: dict) -> list[str]:
    problems = []
    for name, svc in compose["services"].items():
        image = svc.get("image")
        build = svc.get("build")
        if build:
            dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
            if build.get("context") != ".":
                problems.append(f"{name}: the build context must be the repo root")
            if not dockerfile.is_file():
                problems.append(f"{name}: {dockerfile.relative_to(ROOT)} does not exist")
        if not image:
            problems.append(f"{name}: name the image (a pinned tag, or :local for a built one)")
        elif not image_is_pinned(image):
            problems.append(f"{name}: image {image} is not pinned")
        elif not build and image.endswith(":local"):
            # Give it the build of the service it shares the image with: compose would try to pull it.
            problems.append(f"{name}: image {image} has no build here")
    return problems


def check_ports(compose: dict) -> list[str]:
    problems = []
    for name, svc in compose["services"].items():
        ports = published_ports(svc)
        if not ports:
            if name in PUBLISHED:
                problems.append(f"{name}: should publish port {PUBLISHED[name]}")
            continue
        if name not in PUBLISHED:
            problems.append(f"{name}: publishes {ports}, but only person-facing services may")
        elif ports != [(PUBLISHED[name], PUBLISHED[name])]:
            problems.append(f"{name}: publishes {ports}, expected {PUBLISHED[name]}:{PUBLISHED[name]}")
        for port in svc.get("ports") or []:
            if isinstance(port, str) and port.count(":") < 2:
                problems.append(f"{name}: bind {port} to ${{BIND_ADDRESS}} rather than every interface")
    return problems


def check_no_literal_secrets(compose: dict, text: str, secret_values: Iterable[str] = ()) -> list[str]:
    problems = []
    for name, svc in compose["services"].items():
        for key, value in environment(svc).items():
            if is_secret_name(key) and not key.endswith("_FILE"):
                problems.append(f"{name}: {key} is given as a value; pass it as a secret file ({key}_FILE)")
            elif key.endswith("_FILE") and is_secret_name(key) and not value.startswith("/run/secrets/"):
                problems.append(f"{name}: {key} should point into /run/secrets/")
    for pattern in _SECRET_LOOKING:
        problems += [f"secret-looking text in the file: {m.group(0)[:12]}..." for m in pattern.finditer(text)]
    for value in secret_values:
        if len(value) >= 8 and value in text:
            problems.append(f"the value of a file under secrets/ appears in the file ({value[:4]}...)")
    return problems


def check_interpolations_documented(text: str, documented: set[str]) -> list[str]:
    used = set(_INTERPOLATION.findall(text))
    return [f"${{{v}}} is used in docker-compose.yml but not in .env.example" for v in sorted(used - documented)]


def compose_problems(compose: dict, text: str, documented: set[str], secret_values: Iterable[str] = ()) -> list[str]:
    return [
        *check_services_present(compose),
        *check_healthchecks(compose),
        *check_depends_on(compose),
        *check_networks(compose),
        *check_volumes(compose),
        *check_secrets(compose),
        *check_images(compose),
        *check_ports(compose),
        *check_no_literal_secrets(compose, text, secret_values),
        *check_interpolations_documented(text, documented),
    ]


# --- .env.example and settings ---------------------------------------------------------------------


def env_example_names(text: str) -> set[str]:
    """Variables documented in .env.example, set (NAME=...) or shown commented out (# NAME=...)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.M))


def service_settings() -> dict[str, type]:
    """Each service's Settings class, imported the way the service imports it (folder -> package)."""
    from servicekit import ServiceSettings

    found = {}
    for folder in SERVICES:
        module = importlib.import_module(f"{folder.replace('-', '_')}.settings")
        classes = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, ServiceSettings) and obj is not ServiceSettings
        ]
        found[folder] = classes[0] if len(classes) == 1 else module.Settings
    return found


def package_settings() -> dict[str, type]:
    """Settings of the shared packages that services run with (their fields use validation aliases)."""
    from jobs.settings import JobsSettings
    from storage.settings import StorageSettings

    return {"jobs": JobsSettings, "storage": StorageSettings}


def setting_names(settings_cls: type) -> dict[str, bool]:
    """Environment name of each field, and whether it is required."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    names = {}
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else prefix + name
        names[alias.upper()] = field.is_required()
    return names


# --- Dockerfiles -----------------------------------------------------------------------------------


def instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        yield keyword.upper(), args.strip()
        logical = ""


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, args))
    return result


def check_dockerfile(text: str, package: str, service: bool = True) -> list[str]:
    problems = []
    all_stages = stages(text)
    if len(all_stages) < 2:
        return ["not multi-stage: build in one stage, copy only the environment into the runtime stage"]
    aliases = set()
    for stage in all_stages:
        words = stage[0][1].split()
        image = next(w for w in words if not w.startswith("--"))
        if image not in aliases and not image_is_pinned(image):
            problems.append(f"FROM {image} is not pinned")
        if len(words) >= 3 and words[-2].upper() == "AS":
            aliases.add(words[-1])
    builder, runtime = all_stages[:-1], all_stages[-1]
    build_steps = [args for stage in builder for kw, args in stage]
    if not any(f"--from={UV_IMAGE} " in args for args in build_steps):
        problems.append(f"the builder does not copy uv from {UV_IMAGE}")
    sync = next((args for args in build_steps if "uv sync" in args), "")
    # --no-editable: an editable install links into the builder's /src, which the runtime stage does not copy.
    for flag in ("--frozen", "--no-dev", "--no-editable", f"--package {package}"):
        if flag not in sync:
            problems.append(f"uv sync lacks {flag}")
    if runtime[0][1].split()[0] != all_stages[0][0][1].split()[0]:
        problems.append("the runtime stage must use the builder's base image (the venv points at its python)")
    copies = [args for kw, args in runtime if kw == "COPY"]
    if not any(c.startswith("--from=") and "/opt/venv" in c for c in copies):
        problems.append("the runtime stage does not copy the venv from the builder")
    if any(shlex.split(c)[0] in (".", "./") for c in copies if not c.startswith("--")):
        problems.append("the runtime stage copies the whole context; copy only the venv and the service's files")
    users = [args for kw, args in runtime if kw == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        problems.append(f"the runtime stage must end as a numeric non-root USER, not {users[-1:] or 'root'}")
    if service:
        checks = [args for kw, args in runtime if kw == "HEALTHCHECK"]
        if not checks or checks[-1].upper().startswith("NONE") or "/healthz" not in checks[-1]:
            problems.append("no HEALTHCHECK on /healthz")
        entrypoint = [args for kw, args in runtime if kw == "ENTRYPOINT"]
        if not entrypoint or "gunicorn" not in entrypoint[-1]:
            problems.append("the entrypoint is not gunicorn")
    return problems


def dockerfile_port(text: str) -> int | None:
    exposed = [args for kw, args in stages(text)[-1] if kw == "EXPOSE"] if stages(text) else []
    return int(exposed[-1].split("/")[0]) if exposed else None


# --- compose agrees with the code and with infra/ -------------------------------------------------------

# Containers that run no service folder's Settings: what their code reads instead.
CONTAINER_SETTINGS = {
    "fleet-relay": ["fleet_api.settings:Settings", "jobs.settings:JobsSettings"],
    "pubsub-provision": ["jobs.settings:JobsSettings"],
    "loadboard-sim": ["loadboard_sim.settings:SimSettings"],
    "migrations": [],
}
# suite-db's command line reads these (db/suite_db/cli.py, db/suite_db/__init__.py).
COMMAND_READS = {"migrations": {"DATABASE_URL", "SUITE_DB_WAIT_SECONDS", "SUITE_DB_DIR"}}
# Read by gunicorn.conf.py (servicekit.gunicorn_conf) in every container that runs gunicorn.
GUNICORN_READS = {"PORT", "HOST", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "PROMETHEUS_MULTIPROC_DIR"}
# Read by a library rather than by our settings: botocore (every AWS client) and google-cloud-pubsub.
LIBRARY_READS = {"AWS_SHARED_CREDENTIALS_FILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "PUBSUB_EMULATOR_HOST"}
# Which variable, given to a container and read by it, shows that it uses a service it depends_on.
DEPENDENCY_PROOF = {
    "postgres": {"DATABASE_URL"},
    "migrations": {"DATABASE_URL"},
    "redis": {"REDIS_URL", "JOBS_REDIS_URL"},
    "mongo": {"MONGO_URL"},
    "mailpit": {"SMTP_HOST"},
    "pubsub-emulator": {"PUBSUB_EMULATOR_HOST"},
    "pubsub-provision": {"PUBSUB_EMULATOR_HOST"},
    "localstack": {"AWS_ENDPOINT_URL"},
    "terraform": {"AWS_ENDPOINT_URL", "ASSIGNMENTS_TABLE", "LOGS_BUCKET"},
    "gpt-service": {"GPT_SERVICE_URL"},
    "loadboard-sim": {"JBHUNT_URL", "LANDSTAR_URL"},
}
# The LocalStack service each Terraform resource type talks to.
_TF_SERVICE = {"aws_dynamodb_": "dynamodb", "aws_s3_": "s3", "aws_kms_": "kms"}


def _settings_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _uses_package(folder: str, package: str) -> bool:
    import tomllib

    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return any(re.split(r"[\s\[=<>!~;]", dep, maxsplit=1)[0] == package for dep in project["dependencies"])


def container_settings(compose: dict) -> dict[str, list[type]]:
    """The settings classes that read each of our containers' environment (service + packages it uses)."""
    found = {}
    for name, svc in compose["services"].items():
        if not svc.get("build"):
            continue
        if name in SERVICES:
            module = importlib.import_module(f"{name.replace('-', '_')}.settings")
            classes = [module.Settings]
            packages = {"jobs": "jobs.settings:JobsSettings", "storage": "storage.settings:StorageSettings"}
            classes += [_settings_class(path) for pkg, path in packages.items() if _uses_package(name, pkg)]
        else:
            classes = [_settings_class(path) for path in CONTAINER_SETTINGS.get(name, [])]
        found[name] = classes
    return found


def _command_text(svc: dict) -> str:
    return " ".join(str(w) for key in ("entrypoint", "command") for w in (svc.get(key) or []))


def names_read(name: str, svc: dict, classes: list[type]) -> set[str]:
    read = set(LIBRARY_READS) | COMMAND_READS.get(name, set())
    for cls in classes:
        read |= set(setting_names(cls))
    if name in SERVICES or "gunicorn" in _command_text(svc):
        read |= GUNICORN_READS
    return read


def _given(name: str, env: dict[str, str], command: str) -> bool:
    return name in env or f"{name}_FILE" in env or bool(re.search(rf"\b{name}=", command))


def check_files_and_secrets_are_read(compose: dict, settings: dict[str, list[type]]) -> list[str]:
    """Every NAME_FILE given to one of our containers is read (a settings field NAME, or a library), and
    every secret it mounts reaches it through such a variable or its command."""
    problems = []
    for name, classes in settings.items():
        svc = compose["services"][name]
        env, command = environment(svc), _command_text(svc)
        read = names_read(name, svc, classes)
        for key in env:
            if key.endswith("_FILE") and key not in read and key.removesuffix("_FILE") not in read:
                problems.append(f"{name}: {key} is given, but no settings field {key.removesuffix('_FILE')} reads it")
        for secret in secret_refs(svc):
            path = f"/run/secrets/{secret}"
            readers = [k for k, v in env.items() if v == path and (k in read or k.removesuffix("_FILE") in read)]
            if not readers and path not in command:
                problems.append(f"{name}: mounts secret {secret}, which nothing it runs reads")
    return problems


def check_required_settings_given(compose: dict, settings: dict[str, list[type]]) -> list[str]:
    problems = []
    for name, classes in settings.items():
        svc = compose["services"][name]
        env, command = environment(svc), _command_text(svc)
        for cls in classes:
            for setting, required in setting_names(cls).items():
                if required and not _given(setting, env, command):
                    owner = cls.__name__
                    problems.append(f"{name}: required setting {setting} (or {setting}_FILE) of {owner} is not given")
    for name, reads in COMMAND_READS.items():
        svc = compose["services"].get(name, {})
        if "DATABASE_URL" in reads and not _given("DATABASE_URL", environment(svc), _command_text(svc)):
            problems.append(f"{name}: DATABASE_URL is not given")
    return problems


def _names_host(value: str, host: str) -> bool:
    """`redis://redis:6379/0`, `pubsub-emulator:8085` or `mailpit` name their host; `redis://cache` does not."""
    return bool(re.search(rf"(^|//|@){re.escape(host)}(:\d|/|$)", value))


def check_dependencies_are_used(compose: dict, settings: dict[str, list[type]]) -> list[str]:
    """Each depends_on target of our containers is used: a variable of DEPENDENCY_PROOF is given and read,
    and, given as a literal, it names the (long-running) target's host."""
    services = compose["services"]
    problems = []
    for name, classes in settings.items():
        svc = services[name]
        env, command = environment(svc), _command_text(svc)
        read = names_read(name, svc, classes)
        for target in svc.get("depends_on") or {}:
            proof = DEPENDENCY_PROOF.get(target)
            if proof is None:
                problems.append(f"{name}: depends_on {target}, and no variable that proves its use is known")
                continue
            used = [var for var in sorted(proof) if _given(var, env, command) and var in read]
            if not is_one_shot(services.get(target, {})):
                used = [v for v in used if v not in env or env[v].startswith("/run/") or _names_host(env[v], target)]
            if not used:
                problems.append(f"{name}: depends_on {target} but uses none of {sorted(proof)} (given and read)")
    return problems


def check_one_shots_have_no_healthcheck(compose: dict) -> list[str]:
    """A one-shot's image may carry a HEALTHCHECK of the service it was built for, on a port it never serves."""
    return [
        f"{name}: a one-shot needs healthcheck: {{disable: true}}"
        for name, svc in compose["services"].items()
        if is_one_shot(svc) and (svc.get("healthcheck") or {}).get("disable") is not True
    ]


def terraform_blocks(folder: Path | None = None) -> dict[str, list]:
    import hcl2

    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    merged: dict[str, list] = {}
    for path in sorted((folder or ROOT / "infra" / "terraform").glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for block_type, blocks in hcl2.load(handle, serialization_options=options).items():
                merged.setdefault(block_type, []).extend(blocks)
    return merged


def terraform_resource(tf: dict, kind: str, name: str) -> dict:
    found = [block[kind][name] for block in tf["resource"] if kind in block and name in block[kind]]
    assert len(found) == 1, f"{kind}.{name}"
    return found[0]


def terraform_locals(tf: dict) -> dict:
    return {k: v for block in tf["locals"] for k, v in block.items()}


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def localstack_services_needed(tf: dict) -> dict[str, str]:
    """LocalStack service -> the Terraform resource that needs it."""
    needed = {}
    for block in tf.get("resource", []):
        for kind, resources in block.items():
            for resource_name, spec in resources.items():
                where = f"{kind}.{resource_name}"
                for prefix, svc in _TF_SERVICE.items():
                    if kind.startswith(prefix):
                        needed.setdefault(svc, where)
                sse = _first((spec or {}).get("server_side_encryption")) or {}
                # SSE on a table without a key of its own: LocalStack fetches the AWS-managed key from its KMS.
                if kind == "aws_dynamodb_table" and str(sse.get("enabled")).lower() == "true":
                    needed.setdefault("kms", where)
                # A named key (kms_key_arn, kms_master_key_id, aws:kms) lives in KMS as well.
                if "kms" in json_text(spec):
                    needed.setdefault("kms", where)
    return needed


def json_text(value) -> str:
    import json

    return json.dumps(value, default=str)


def check_localstack_covers_terraform(compose: dict, tf: dict) -> list[str]:
    env = environment(compose["services"].get("localstack", {}))
    enabled = {s.strip() for s in env.get("SERVICES", "").split(",") if s.strip()}
    return [
        f"localstack: SERVICES lacks {svc}, which {where} needs"
        for svc, where in sorted(localstack_services_needed(tf).items())
        if svc not in enabled
    ]


def compose_defaults(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}", text)}


def env_example_values(text: str) -> dict[str, str]:
    """Variables .env.example sets (uncommented), with their values unquoted."""
    return {m.group(1): m.group(2).strip().strip('"') for m in re.finditer(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.M)}


def check_env_example_matches_compose(compose_text: str, env_example_text: str) -> list[str]:
    """A `.env` copied from .env.example must not change what compose runs by default."""
    values = env_example_values(env_example_text)
    return [
        f"{var}: .env.example says {values[var]!r}, docker-compose.yml's default is {default!r}"
        for var, default in sorted(compose_defaults(compose_text).items())
        if var in values and values[var] != default
    ]
