"""The bakery's outside actions, typed: one pydantic model per action, written to the suite's outbox
(``bakery.job_outbox``, jobs.outbox; ``uow.outbox.add``) in the transaction of the change that causes it.

An action's type is ``<integration>.<action>`` and its channel the integration, so that the processor
claims the actions of configured integrations only and holds the others apart. Its row id is the
action's id: the idempotency key its effect carries wherever the vendor takes one (usecases/send_action.py).
Payloads say which thing the action is about; what it sends is read from that thing when the effect is
made, so that a notice never speaks of a state the order has left (usecases/send_action.py).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, TypeGuard

from pydantic import BaseModel, ConfigDict

from .models import IntegrationName

#: The channels of the bakery's outbox: one per integration.
INTEGRATIONS: tuple[IntegrationName, ...] = ("jira", "slack", "email", "drive", "github")


def is_integration(name: str) -> TypeGuard[IntegrationName]:
    return name in INTEGRATIONS


class Action(BaseModel):
    # Extra fields are ignored: rows written by earlier versions (with the text they would send) still load.
    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str]

    @classmethod
    def channel(cls) -> str:
        return cls.TYPE.split(".", 1)[0]


class CreateTicket(Action):
    """The Jira ticket ordering a batch's ingredients."""

    TYPE: ClassVar[str] = "jira.create_ticket"
    batch_id: int
    #: Unique to the batch: how a retry finds a ticket an earlier attempt created (exact label match).
    label: str
    summary: str
    description: str
    due_date: date | None = None
    labels: list[str]


class FlagDuplicateTickets(Action):
    """After a ticket was created again because Jira's search did not show the first in time: any second
    ticket of the batch is labelled and linked to the first, never left as a silent double order."""

    TYPE: ClassVar[str] = "jira.flag_duplicates"
    batch_id: int
    label: str


class SlackReadyNotice(Action):
    TYPE: ClassVar[str] = "slack.ready_notice"
    order_id: int
    customer: str


class EmailReadyNotice(Action):
    TYPE: ClassVar[str] = "email.ready_notice"
    order_id: int
    to: str


class SlackCancelledNotice(Action):
    """Follows a ready notice that reached the customer for an order cancelled since."""

    TYPE: ClassVar[str] = "slack.cancelled_notice"
    order_id: int
    user_id: str


class EmailCancelledNotice(Action):
    TYPE: ClassVar[str] = "email.cancelled_notice"
    order_id: int
    to: str


class DriveAppendLine(Action):
    """A cancelled order's line in the customer's Google Doc."""

    TYPE: ClassVar[str] = "drive.append_line"
    order_id: int
    customer_slug: str
    title: str
    line: str


class GithubGrant(Action):
    TYPE: ClassVar[str] = "github.grant"
    username: str
    employee_id: int | None = None


class GithubRevoke(Action):
    TYPE: ClassVar[str] = "github.revoke"
    username: str
    employee_id: int | None = None


ACTIONS: tuple[type[Action], ...] = (
    CreateTicket,
    FlagDuplicateTickets,
    SlackReadyNotice,
    EmailReadyNotice,
    SlackCancelledNotice,
    EmailCancelledNotice,
    DriveAppendLine,
    GithubGrant,
    GithubRevoke,
)
MODELS: dict[str, type[Action]] = {model.TYPE: model for model in ACTIONS}
