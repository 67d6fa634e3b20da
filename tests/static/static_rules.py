"""The suite's rules for docker-compose.yml, the Dockerfiles and .env.example, as functions listing problems.

Each rule returns the problems it finds (an empty list when all is well), so the tests can run it on the
real files and on deliberately broken copies, which shows that the rule can fail.
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The six services and their ports (ARCHITECTURE.md).
SERVICES = {
    "dispatch-service": 8000,
    "fleet-api": 8001,
    "gpt-service": 8002,
    "automation-service": 8003,
    "bakery-service": 8004,
    "audit-worker": 8005,
}
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
            elif condition == "service_healthy" and not services[target].get("healthcheck"):
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
    names = {}
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else name
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
    for flag in ("--frozen", "--no-dev", f"--package {package}"):
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
