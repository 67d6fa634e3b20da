"""Making each outside action's effect once: the bakery's sender for the suite's outbox relay (jobs.outbox),
which the outbox processor runs (background/outbox_processor.py).

The relay claims an action (leased, fenced), calls `ActionSender.send` with no transaction open and settles
the action by what it answered. Each handler here:

1. checks the state the action is about *now*, not as it was when the action was written: no ready notice
   for an order cancelled since (a correction follows one that may have reached the customer), no ticket
   for a batch whose orders were all cancelled, no line for an order that is not cancelled, no GitHub access
   for an account no developer has any more (and no removal for one a developer has again);
2. makes the effect once, by the vendor's own means where it has one (an e-mail's Message-ID made from the
   action id, GitHub's invitation that is the same however often it is asked for, the Drive document's id
   chosen before it is created) and otherwise by recording that the effect was started before calling
   (`Attempt.begin_effect`) and, on any later attempt, looking for it by an exact key (the batch's Jira
   label, the action id in a Slack message's metadata) until the vendor's search has had time to show it,
   counted from when the earlier call ended (`ActionSender.lookup_wait`), before ever making it again;
3. returns the result, and what to write in the transaction that marks the action done (the ticket key on
   the orders, the notice on the order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobs.errors import Deferred
from jobs.outbox import Attempt, Claim, Outcome
from pydantic import ValidationError
from servicekit.logs import current_request_id
from sqlalchemy.engine import RowMapping

from ..adapters.clients import IntegrationClients
from ..adapters.integration_errors import IntegrationError, NotConfigured
from ..adapters.mailer import OutgoingEmail
from ..adapters.unit_of_work import SettleWrites, UnitOfWorkFactory, in_settle
from ..domain import messages
from ..domain.actions import (
    MODELS,
    Action,
    CreateTicket,
    DriveAppendLine,
    EmailCancelledNotice,
    EmailReadyNotice,
    FlagDuplicateTickets,
    GithubGrant,
    GithubRevoke,
    SlackCancelledNotice,
    SlackReadyNotice,
)
from ..domain.naming import customer_email
from ..metrics import ACTIONS, NOTIFICATIONS

log = logging.getLogger("bakery_service.effects")

READY_EVENT = "bakery_ready_notice"
CANCELLED_EVENT = "bakery_cancelled_notice"
Then = Callable[[SettleWrites], None]


def skipped(reason: str) -> Outcome:
    log.info("outside action not needed any more: %s", reason)
    return Outcome({"skipped": reason})


def count_outcome(claim: Claim, outcome: str) -> None:
    """The relay's word for how an action was settled, counted and logged."""
    # The dashboards' words: a dead-lettered action "failed", a throttled one is a "retry".
    word = {"dead": "failed", "throttled": "retry"}.get(outcome, outcome)
    ACTIONS.labels(claim.channel, word).inc()
    # In the context of the request that caused the action: its id is on the line.
    log.info("outside action %s: %s", word, claim.type, extra={"action_id": claim.id, "action_type": claim.type})


def done(result: dict[str, Any], then: Then | None = None) -> Outcome:
    """The action's effect is made: ``result`` on its row, and ``then`` written with it."""
    return Outcome(result, in_settle(then) if then is not None else None)


def queue(action: Action) -> Then:
    """A follow-up action, written when this one is settled."""

    def then(writes: SettleWrites) -> None:
        writes.outbox.add(action)

    return then


class ActionSender:
    """The bakery's handlers, one per action type (a jobs.outbox ``Sender``)."""

    #: Every call that acts is preceded by `Attempt.begin_effect` (Drive's document creation, the same
    #: document by the id chosen first however often it runs, apart): a claim lost before beginning made no
    #: call, and does not use up one of the action's attempts.
    begins_every_effect = True

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clients: IntegrationClients,
        *,
        pickup: messages.Pickup,
        timeout_seconds: float,
        lookup_lag_seconds: float,
        lease_seconds: float,
    ) -> None:
        """``timeout_seconds``: how long a call may take when its client does not say; ``lookup_lag_seconds``:
        how long a vendor's search may take to show an effect after the call that made it ended;
        ``lease_seconds``: how long a worker holds an action; ``pickup`` goes in the e-mails."""
        self.uow = uow
        self.clients = clients
        self.pickup = pickup
        self.timeout_seconds = timeout_seconds
        self.lookup_lag_seconds = lookup_lag_seconds
        self.lease_seconds = lease_seconds
        self.handlers: dict[str, Callable[[Any, Attempt], Outcome]] = {
            CreateTicket.TYPE: self.create_ticket,
            FlagDuplicateTickets.TYPE: self.flag_duplicates,
            SlackReadyNotice.TYPE: self.slack_ready_notice,
            SlackCancelledNotice.TYPE: self.slack_cancelled_notice,
            EmailReadyNotice.TYPE: self.email_ready_notice,
            EmailCancelledNotice.TYPE: self.email_cancelled_notice,
            DriveAppendLine.TYPE: self.drive_append_line,
            GithubGrant.TYPE: self.github_grant,
            GithubRevoke.TYPE: self.github_revoke,
        }

    def send(self, attempt: Attempt) -> Outcome:
        claim = attempt.claim
        model = MODELS.get(claim.type)
        if model is None:
            raise IntegrationError(f"no handler for {claim.type}", retryable=False)
        try:
            action = model.model_validate(claim.payload)
        except ValidationError as exc:
            raise IntegrationError(f"{claim.type}: the stored payload no longer fits: {exc}", retryable=False) from None
        if not self.clients.configured(claim.channel):
            raise NotConfigured(claim.channel)
        return self.handlers[claim.type](action, attempt)

    # -- shared ----------------------------------------------------------------------------------------
    def lookup_wait(self, attempt: Attempt, client: Any) -> float:
        """Seconds until a lookup can be trusted to show an effect the earlier attempt may have made: the
        vendor's search has had the lag since that attempt's call ended. A busy worker's call ends well after
        its start plus the client's timeout, so the end it recorded counts. One that recorded none is still
        calling after its lease ran out, or died during the call: it is waited for until its start plus the
        client's timeout plus the lease, after which its worker is taken for dead."""
        started: datetime | None = attempt.earlier_start
        if started is None:
            return 0.0
        ended: datetime | None = attempt.earlier_end
        if ended is not None:
            call_over = ended.timestamp()
        else:
            given = getattr(client, "timeout", None)
            timeout = given if isinstance(given, int | float) else self.timeout_seconds
            call_over = started.timestamp() + timeout + self.lease_seconds
        return max(0.0, call_over + self.lookup_lag_seconds - datetime.now(UTC).timestamp())

    def not_yet(self, what: str, wait: float) -> Deferred:
        return Deferred(f"an earlier attempt may have {what}; looking again in {wait:.1f}s before acting", wait)

    def order(self, order_id: int) -> RowMapping | None:
        with self.uow() as uow:
            row: RowMapping | None = uow.orders.get(order_id)
        return row

    @staticmethod
    def notice_recorded(order_id: int, channel: str, recipient: str, correction: Action) -> Then:
        """In the settle's transaction: the notice on the order, under the order's lock. An order cancelled
        meanwhile gets the correction now (a cancellation after this sees the notice and sends it itself)."""

        def then(writes: SettleWrites) -> None:
            row = writes.orders.get(order_id, for_update=True)
            if row is None:
                return
            writes.orders.record_ready_notice(order_id, channel, recipient)
            NOTIFICATIONS.labels(channel).inc()
            if row["state"] == "cancelled":
                writes.outbox.add(correction)

        return then

    # -- Jira ------------------------------------------------------------------------------------------
    def create_ticket(self, a: CreateTicket, attempt: Attempt) -> Outcome:
        with self.uow() as uow:
            batch = uow.batches.get(a.batch_id)
            orders = uow.orders.of_batch(a.batch_id)
        if batch is None:
            return skipped(f"batch {a.batch_id} does not exist")
        if batch["ticket_key"]:
            return done({"ticket_key": batch["ticket_key"]})
        if orders and all(o["state"] == "cancelled" for o in orders):
            return skipped(f"every order of batch {a.batch_id} was cancelled")
        jira = self.clients.jira
        created_again = False
        if attempt.earlier_start is not None:
            keys = jira.find_tickets_by_label(a.label)
            if keys:
                return self.ticket_found(a, keys)
            wait = self.lookup_wait(attempt, jira)
            if wait > 0:
                raise self.not_yet("created the ticket", wait)
            created_again = True
        attempt.begin_effect()
        key = jira.create_ticket(a.summary, a.description, a.due_date, list(a.labels))

        def then(writes: SettleWrites) -> None:
            writes.batches.record_ticket(a.batch_id, key)
            if created_again:
                # Beyond the lookup's window after all? Then the first is found later, and flagged.
                writes.outbox.add(
                    FlagDuplicateTickets(batch_id=a.batch_id, label=a.label),
                    delay_seconds=self.lookup_lag_seconds,
                )

        return done({"ticket_key": key}, then)

    def ticket_found(self, a: CreateTicket, keys: list[str]) -> Outcome:
        def then(writes: SettleWrites) -> None:
            writes.batches.record_ticket(a.batch_id, keys[0])
            if len(keys) > 1:
                writes.outbox.add(FlagDuplicateTickets(batch_id=a.batch_id, label=a.label))

        return done({"ticket_key": keys[0], "found": True}, then)

    def flag_duplicates(self, a: FlagDuplicateTickets, attempt: Attempt) -> Outcome:
        keys = self.clients.jira.find_tickets_by_label(a.label)
        with self.uow() as uow:
            batch = uow.batches.get(a.batch_id)
        original = (batch["ticket_key"] if batch else None) or (keys[0] if keys else None)
        duplicates = [key for key in keys if key != original]
        if original is not None and duplicates:
            attempt.begin_effect()
            for key in duplicates:
                self.clients.jira.flag_duplicate(key, original)
        return done({"original": original, "duplicates": duplicates})

    # -- ready notices -----------------------------------------------------------------------------------
    def slack_ready_notice(self, a: SlackReadyNotice, attempt: Attempt) -> Outcome:
        order = self.order(a.order_id)
        if order is None:
            return skipped(f"order {a.order_id} does not exist")
        slack = self.clients.slack
        user_id = slack.find_user(a.customer)
        if user_id is None:
            if order["state"] == "cancelled":
                return skipped(f"order {a.order_id} was cancelled")
            fallback = EmailReadyNotice(order_id=a.order_id, to=customer_email(a.customer))
            return done({"slack_user": None, "fallback": "email", "to": fallback.to}, queue(fallback))
        channel = slack.open_conversation(user_id)
        correction = SlackCancelledNotice(order_id=a.order_id, user_id=user_id)
        if attempt.earlier_start is not None:
            ts = slack.find_notice(channel, attempt.id)
            if ts:
                return done(
                    {"slack_user": user_id, "ts": ts, "found": True},
                    self.notice_recorded(a.order_id, "slack", user_id, correction),
                )
            wait = self.lookup_wait(attempt, slack)
            if wait > 0:
                raise self.not_yet("posted the notice", wait)
        if order["state"] == "cancelled":
            return skipped(f"order {a.order_id} was cancelled before its ready notice went out")
        text = messages.ready_text(order["customer"], order["id"], order["recipe_name"])
        attempt.begin_effect()
        ts = slack.post_notice(channel, text, event_type=READY_EVENT, action_id=attempt.id, order_id=a.order_id)
        return done({"slack_user": user_id, "ts": ts}, self.notice_recorded(a.order_id, "slack", user_id, correction))

    def email_ready_notice(self, a: EmailReadyNotice, attempt: Attempt) -> Outcome:
        order = self.order(a.order_id)
        if order is None:
            return skipped(f"order {a.order_id} does not exist")
        correction = EmailCancelledNotice(order_id=a.order_id, to=a.to)
        if order["state"] == "cancelled":
            if attempt.earlier_start is None:
                return skipped(f"order {a.order_id} was cancelled before its ready notice went out")
            # An earlier attempt may have delivered it (SMTP cannot be asked): the customer hears of the cancel.
            return done({"skipped": f"order {a.order_id} was cancelled", "correction": True}, queue(correction))
        letter = messages.ready_email(order["customer"], order["id"], order["recipe_name"], self.pickup)
        attempt.begin_effect()
        message_id = self.clients.email.send(
            OutgoingEmail(
                a.to, letter.subject, letter.text, letter.html, key=attempt.id, request_id=current_request_id()
            )
        )
        return done({"to": a.to, "message_id": message_id}, self.notice_recorded(a.order_id, "email", a.to, correction))

    def slack_cancelled_notice(self, a: SlackCancelledNotice, attempt: Attempt) -> Outcome:
        order = self.order(a.order_id)
        if order is None or order["state"] != "cancelled":
            return skipped(f"order {a.order_id} is not cancelled")
        slack = self.clients.slack
        channel = slack.open_conversation(a.user_id)
        if attempt.earlier_start is not None:
            ts = slack.find_notice(channel, attempt.id)
            if ts:
                return done({"slack_user": a.user_id, "ts": ts, "found": True})
            wait = self.lookup_wait(attempt, slack)
            if wait > 0:
                raise self.not_yet("posted the correction", wait)
        text = messages.cancelled_text(order["customer"], order["id"], order["recipe_name"])
        attempt.begin_effect()
        ts = slack.post_notice(channel, text, event_type=CANCELLED_EVENT, action_id=attempt.id, order_id=a.order_id)
        return done({"slack_user": a.user_id, "ts": ts})

    def email_cancelled_notice(self, a: EmailCancelledNotice, attempt: Attempt) -> Outcome:
        order = self.order(a.order_id)
        if order is None or order["state"] != "cancelled":
            return skipped(f"order {a.order_id} is not cancelled")
        letter = messages.cancelled_email(order["customer"], order["id"], order["recipe_name"], self.pickup)
        attempt.begin_effect()
        message_id = self.clients.email.send(
            OutgoingEmail(
                a.to, letter.subject, letter.text, letter.html, key=attempt.id, request_id=current_request_id()
            )
        )
        return done({"to": a.to, "message_id": message_id})

    # -- Drive ---------------------------------------------------------------------------------------------
    def drive_append_line(self, a: DriveAppendLine, attempt: Attempt) -> Outcome:
        order = self.order(a.order_id)
        if order is None or order["state"] != "cancelled":
            return skipped(f"order {a.order_id} is not cancelled")
        drive = self.clients.drive
        document_id = self.customer_document(a.customer_slug)
        text = drive.document_text(document_id) or ""
        attempt.begin_effect()
        written = drive.append_line(document_id, a.title, a.line, text)
        return done({"file_id": document_id, "written": written})

    def customer_document(self, slug: str) -> str:
        """The id of the customer's document, which exists when this returns. A new one is created with an
        id chosen and stored first, so that no retry, however it interleaves, makes a second."""
        drive = self.clients.drive
        with self.uow() as uow:
            known = uow.drive_documents.get(slug)
        if known is None:
            # A document made by hand before the bakery kept ids: adopted, not doubled.
            found = drive.find_document(slug)
            with self.uow() as uow:
                known = uow.drive_documents.claim(slug, found or drive.generate_id())
                uow.commit()
        if drive.document_text(known) is None:
            drive.create_document(known, slug)
        document_id: str = known
        return document_id

    # -- GitHub --------------------------------------------------------------------------------------------
    def developer_has(self, username: str) -> bool:
        with self.uow() as uow:
            has: bool = uow.employees.developer_with_account(username)
        return has

    def github_grant(self, a: GithubGrant, attempt: Attempt) -> Outcome:
        if not self.developer_has(a.username):
            return skipped(f"no developer has the GitHub account {a.username} any more")
        attempt.begin_effect()
        self.clients.github.grant(a.username)  # the same invitation however often it is asked for
        return done({"granted": a.username})

    def github_revoke(self, a: GithubRevoke, attempt: Attempt) -> Outcome:
        if self.developer_has(a.username):
            return skipped(f"a developer has the GitHub account {a.username} again")
        attempt.begin_effect()
        self.clients.github.revoke(a.username)
        return done({"revoked": a.username})
