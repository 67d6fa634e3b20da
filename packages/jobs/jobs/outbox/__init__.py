"""The transactional outbox of the suite: every outside effect (a job for the bus, a vendor call) is a row
written in the same Postgres transaction as the change that causes it, then made by a relay, once.

The owning service's Alembic migration creates the table::

    from jobs.outbox import create_outbox_table, drop_outbox_table
    def upgrade():   create_outbox_table(op, "fleet", version=3)
    def downgrade(): drop_outbox_table(op, "fleet", version=3)

The service writes inside its own transaction::

    with engine.begin() as conn:
        conn.execute(insert(loads)...)
        enqueue(conn, "load.assigned", {...}, schema="fleet")

and a relay makes the effects of what was committed, publishing to the bus through a dispatcher or
calling whatever a sender calls::

    OutboxRelay(engine, "fleet", jobs.get_dispatcher()).run_forever()
    OutboxRelay(Outbox(engine, "bakery"), sender=BakerySender(...), channels=["jira", "email"]).run_forever()

Claims are leased and every settle is fenced (`store`), each row keeps its own backoff, a poison row goes
to the dead letter without holding up the rows behind it, and `replay(id)` brings one back (`relay`).
The row id is the job id and the idempotency key of the effect.
"""

from .relay import Attempt, ChannelDown, DispatcherSender, OutboxRelay, Outcome, PassReport, Sender, StaleClaim
from .schema import (
    DEFAULT_CHANNEL,
    LATEST_VERSION,
    TABLE_NAME,
    create_outbox_table,
    downgrade_outbox_table,
    drop_outbox_table,
    outbox_table,
    upgrade_outbox_table,
)
from .store import Claim, Outbox, Row, enqueue, pending_count

__all__ = [
    "DEFAULT_CHANNEL",
    "LATEST_VERSION",
    "TABLE_NAME",
    "Attempt",
    "ChannelDown",
    "Claim",
    "DispatcherSender",
    "Outbox",
    "OutboxRelay",
    "Outcome",
    "PassReport",
    "Row",
    "Sender",
    "StaleClaim",
    "create_outbox_table",
    "downgrade_outbox_table",
    "drop_outbox_table",
    "enqueue",
    "outbox_table",
    "pending_count",
    "upgrade_outbox_table",
]
