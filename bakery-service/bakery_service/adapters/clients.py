"""The five outside-API clients, built once from Settings, by the name the outbox knows them by.

Each client (jira.py, slack.py, mailer.py, drive.py, github.py) has ``configured: bool`` and raises
IntegrationError / NotConfigured; without credentials its actions wait in the outbox until they exist.
Building them opens no connection: each connects on its first call.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from .drive import DriveDocs
from .github import GithubAccess
from .jira import JiraClient
from .mailer import Mailer
from .slack import SlackClient


@dataclass(frozen=True)
class IntegrationClients:
    jira: JiraClient
    slack: SlackClient
    email: Mailer
    drive: DriveDocs
    github: GithubAccess

    def configured(self, name: str) -> bool:
        return bool(getattr(getattr(self, name), "configured", False))


def build_clients(settings: Settings) -> IntegrationClients:
    return IntegrationClients(
        jira=JiraClient(settings),
        slack=SlackClient(settings),
        email=Mailer(settings),
        drive=DriveDocs(settings),
        github=GithubAccess(settings),
    )
