"""`python -m jobs.provision --app module:function`: create what the configured provider needs for every
registered job type (Pub/Sub topics, subscriptions and dead-letter topics; Redis consumer groups),
idempotently. Compose runs it once against the Pub/Sub emulator before the workers start.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .providers import build_provider
from .registry import default_registry
from .settings import JobsSettings
from .worker import load_app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.provision", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--app", action="append", default=[], help="module:function registering job types (repeatable; env JOBS_APP)"
    )
    parser.add_argument("--types", help="comma-separated job types, in addition to the registered ones")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    settings = JobsSettings()
    for target in args.app or ([settings.app] if settings.app else []):
        load_app(target, default_registry)
    types = sorted(set(default_registry.types()) | {t for t in (args.types or "").split(",") if t})
    if not types:
        parser.error("no job type: pass --app and/or --types")
    provider = build_provider(settings)
    provider.provision(types)
    provider.close()
    logging.getLogger("jobs.provision").info("provisioned %s for %s", provider.name, ", ".join(types))
    return 0


if __name__ == "__main__":
    sys.exit(main())
