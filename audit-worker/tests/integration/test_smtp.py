"""Driver notifications by e-mail, through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import uuid

import jobs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from jobs.providers.inprocess import InProcessProvider
from testkit.servers import free_port

from ..conftest import fleet_event, trail

pytestmark = pytest.mark.integration


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture()
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_an_assignment_sends_one_email(smtp, settings):
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from audit_worker.adapters.notify import Notifier
    from audit_worker.background.event_consumer import AuditHandler

    controller, inbox = smtp
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": controller.port})
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), InProcessProvider())
    AuditHandler(MemoryAuditStore().unit_of_work, Notifier.from_settings(configured)).register(dispatcher.registry)
    job = jobs.Job(
        type="load.assigned", payload=fleet_event(), id=str(uuid.uuid4()), attributes={"request_id": "req-assign-7"}
    )
    dispatcher.deliver(job)
    dispatcher.deliver(job)  # redelivered: no second e-mail
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == configured.notify_email_to
    assert message["Subject"] == "You have a new load: Austin -> Dallas"
    assert "Hello Ann Lee" in message.get_payload()
    # The fleet-api request that made the assignment, so the e-mail is found from the request and back.
    assert message["X-Request-ID"] == "req-assign-7"
    assert message["Date"] and message["Message-ID"]


def test_an_event_without_a_request_id_sends_no_empty_header(smtp, settings):
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from audit_worker.adapters.notify import Notifier
    from audit_worker.background.event_consumer import AuditHandler

    controller, inbox = smtp
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": controller.port})
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), InProcessProvider())
    AuditHandler(MemoryAuditStore().unit_of_work, Notifier.from_settings(configured)).register(dispatcher.registry)
    dispatcher.deliver(jobs.Job(type="load.assigned", payload=fleet_event(), id=str(uuid.uuid4())))
    [message] = inbox.messages
    assert "X-Request-ID" not in message


def test_smtp_down_fails_the_delivery_so_the_bus_retries(settings):
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from audit_worker.adapters.notify import Notifier
    from audit_worker.background.event_consumer import AuditHandler

    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    store = MemoryAuditStore()
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), InProcessProvider())
    AuditHandler(store.unit_of_work, Notifier.from_settings(configured)).register(dispatcher.registry)
    event = fleet_event()
    with pytest.raises(OSError):
        dispatcher.deliver(jobs.Job(type="load.assigned", payload=event, id=str(uuid.uuid4())))
    [document] = trail(store, load_id=event["load_id"])
    assert document["notifiedAt"] is None
