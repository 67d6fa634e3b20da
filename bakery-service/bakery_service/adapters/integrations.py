"""The five outside-API clients, built once from Settings, by the name the outbox knows them by.

Each client (jira.py, slack.py, mailer.py, drive.py, github.py) has ``configured: bool`` and raises
IntegrationError / NotConfigured. A client module that is not part of this build yet counts as an
integration without credentials: its actions wait in the outbox, exactly as when a secret is missing.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from ..settings import Settings
from .integration_errors import NotConfigured

log = logging.getLogger("bakery_service.integrations")

NAMES = ("jira", "slack", "email", "drive", "github")
_CLASSES = {
    "jira": ("jira", "JiraClient"),
    "slack": ("slack", "SlackClient"),
    "email": ("mailer", "Mailer"),
    "drive": ("drive", "DriveDocs"),
    "github": ("github", "GithubAccess"),
}


class Absent:
    """Stands for a client whose module is not installed: never configured, every call NotConfigured."""

    configured = False

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise NotConfigured(self.name)

        return refuse


@dataclass(frozen=True)
class IntegrationClients:
    jira: Any
    slack: Any
    email: Any
    drive: Any
    github: Any

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def configured(self, name: str) -> bool:
        return bool(getattr(self.get(name), "configured", False))


def build_clients(settings: Settings) -> IntegrationClients:
    clients = {}
    for name, (module, cls) in _CLASSES.items():
        try:
            clients[name] = getattr(importlib.import_module(f"{__package__}.{module}"), cls)(settings)
        except ModuleNotFoundError:
            log.warning("integration %s: client module %s is not installed; actions stay pending", name, module)
            clients[name] = Absent(name)
    return IntegrationClients(**clients)
