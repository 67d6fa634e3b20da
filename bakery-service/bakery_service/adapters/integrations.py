"""The five outside-API clients, built once from Settings, by the name the outbox knows them by.

Each client (jira.py, slack.py, mailer.py, drive.py, github.py) has ``configured: bool`` and raises
IntegrationError / NotConfigured; without credentials its actions wait in the outbox until they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..settings import Settings
from .drive import DriveDocs
from .github import GithubAccess
from .jira import JiraClient
from .mailer import Mailer
from .slack import SlackClient

NAMES = ("jira", "slack", "email", "drive", "github")


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
    return IntegrationClients(
        jira=JiraClient(settings),
        slack=SlackClient(settings),
        email=Mailer(settings),
        drive=DriveDocs(settings),
        github=GithubAccess(settings),
    )
