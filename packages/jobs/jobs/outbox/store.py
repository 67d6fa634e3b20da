"""The outbox rows in Postgres: writing one in the caller's transaction, claiming, settling, the dead letter.

A row's life::

    enqueue ──> pending ──claim──> (leased) ──complete──> done
                 │  ▲                 │ retry (own backoff), release (not tried: uncounted)
                 │  └─────────────────┘
                 │                    └──bury──> dead ──replay──> pending
                 └──hold──> held ──unhold/replay──> pending

Every settle is fenced: a claim carries the row's ``lease_token`` as it was when claimed, each claim
increments it, and a settle changes the row only while the token is still the same and the row still
pending. A worker whose lease ran out and whose row another worker claimed since settles nothing: its
late "retry" cannot put a done row back to pending, its late "done" cannot hide the other's outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.engine import Connection, Engine

from ..registry import JobRegistry
from ..spi import Job, with_request_id
from .schema import DEFAULT_CHANNEL, outbox_table

MAX_ERROR_LENGTH = 2000


def _now() -> Any:
    return sa.func.now()


def _seconds(value: float) -> Any:
    return sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.literal(float(value), sa.Float))


def enqueue(
    connection: Connection,
    job_type: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    schema: str,
    registry: JobRegistry | None = None,
    job_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
    channel: str = DEFAULT_CHANNEL,
    delay_seconds: float | None = None,
) -> str:
    """Insert a row in the caller's transaction; returns its id (the job id, the effect's idempotency key).

    The payload is validated against the type's registered model first (`InvalidPayload`, nothing
    written). A row written while a request is served gets that request's id as the attribute `request_id`.
    """
    if registry is None:
        from ..registry import default_registry

        registry = default_registry
    data = registry.get(job_type).validate(payload).model_dump(mode="json")
    row_id = uuid.UUID(job_id) if job_id else uuid.uuid4()
    values: dict[str, Any] = {
        "id": row_id,
        "type": job_type,
        "channel": channel,
        "payload": data,
        "attributes": with_request_id(attributes, job_type),
    }
    if delay_seconds:
        values["next_attempt_at"] = _now() + _seconds(delay_seconds)
    connection.execute(sa.insert(outbox_table(schema)).values(**values))
    return str(row_id)


def pending_count(connection: Connection, schema: str) -> int:
    """Rows waiting to be sent (held rows apart): a growing number means the relay or its broker is down."""
    table = outbox_table(schema)
    return connection.execute(
        sa.select(sa.func.count()).select_from(table).where(table.c.state == "pending")
    ).scalar_one()


@dataclass(frozen=True)
class Claim:
    """One leased row. ``token`` fences every settle of this claim; ``attempts`` counts this one."""

    id: str
    seq: int
    type: str
    channel: str
    payload: Any
    attributes: dict[str, str]
    attempts: int
    token: int
    created_at: datetime
    #: When an earlier attempt began the outside effect (None if none did): this attempt cannot know
    #: whether that one acted, so it reconciles first (see `Attempt.begin_effect`).
    started_at: datetime | None
    #: When that attempt's call ended, if it got to record it (not before `started_at`: the latest call
    #: has not ended, or its worker died during it).
    ended_at: datetime | None = None

    def job(self) -> Job:
        return Job(type=self.type, payload=self.payload, id=self.id, attributes=self.attributes, attempt=self.attempts)


@dataclass(frozen=True)
class Row:
    """A row as stored (for views, tests and the dead letter)."""

    id: str
    seq: int
    type: str
    channel: str
    state: str
    payload: Any
    attributes: dict[str, str]
    attempts: int
    last_error: str | None
    result: Any
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    done_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    lease_token: int
    leased_until: datetime | None


def _row(r: Any) -> Row:
    return Row(
        id=str(r.id),
        seq=r.seq,
        type=r.type,
        channel=r.channel,
        state=r.state,
        payload=r.payload,
        attributes=dict(r.attributes or {}),
        attempts=r.attempts,
        last_error=r.last_error,
        result=r.result,
        created_at=r.created_at,
        updated_at=r.updated_at,
        next_attempt_at=r.next_attempt_at,
        done_at=r.done_at,
        started_at=r.started_at,
        ended_at=r.ended_at,
        lease_token=r.lease_token,
        leased_until=r.leased_until,
    )


class Outbox:
    """The outbox of one schema: claims, fenced settles, the dead letter, replay, counts."""

    def __init__(self, engine: Engine, schema: str) -> None:
        self.engine = engine
        self.schema = schema
        self.table = outbox_table(schema)

    # -- claiming ---------------------------------------------------------------------------------------
    def claim(
        self,
        *,
        channels: Sequence[str] | None = None,
        limit: int = 1,
        lease_seconds: float = 60.0,
        count_lost_claims: bool = True,
    ) -> list[Claim]:
        """Lease up to ``limit`` due rows, oldest first, skipping rows another worker holds. A claim that is
        never settled (its worker died, or stalled past its lease) makes the row due again when the lease ends,
        and counts as an attempt. With ``count_lost_claims`` False, one that never began the effect does not:
        for a sender that begins every effect (`Attempt.begin_effect`), such a claim is known to have made no
        call, and the next claim takes over its attempt."""
        t = self.table
        attempts: Any = t.c.attempts + 1
        if not count_lost_claims:
            lost_before_acting = sa.and_(
                t.c.leased_until.is_not(None), t.c.started_token.is_distinct_from(t.c.lease_token)
            )
            attempts = t.c.attempts + sa.case((lost_before_acting, 0), else_=1)
        due = sa.and_(
            t.c.state == "pending",
            t.c.next_attempt_at <= _now(),
            sa.or_(t.c.leased_until.is_(None), t.c.leased_until <= _now()),
        )
        if channels is not None:
            if not channels:
                return []
            due = sa.and_(due, t.c.channel.in_(list(channels)))
        chosen = (
            sa.select(t.c.id).where(due).order_by(t.c.seq).limit(limit).with_for_update(skip_locked=True)
        ).scalar_subquery()
        statement = (
            sa.update(t)
            .where(t.c.id.in_(chosen))
            .values(
                lease_token=t.c.lease_token + 1,
                attempts=attempts,
                leased_until=_now() + _seconds(lease_seconds),
                updated_at=_now(),
            )
            .returning(
                t.c.id,
                t.c.seq,
                t.c.type,
                t.c.channel,
                t.c.payload,
                t.c.attributes,
                t.c.attempts,
                t.c.lease_token,
                t.c.created_at,
                t.c.started_at,
                t.c.ended_at,
            )
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return [
            Claim(
                id=str(r.id),
                seq=r.seq,
                type=r.type,
                channel=r.channel,
                payload=r.payload,
                attributes=dict(r.attributes or {}),
                attempts=r.attempts,
                token=r.lease_token,
                created_at=r.created_at,
                started_at=r.started_at,
                ended_at=r.ended_at,
            )
            for r in sorted(rows, key=lambda r: r.seq)
        ]

    # -- settling (each fenced by the claim's token) --------------------------------------------------
    def _fenced(self, claim: Claim) -> Any:
        t = self.table
        return sa.and_(t.c.id == uuid.UUID(claim.id), t.c.lease_token == claim.token, t.c.state == "pending")

    def begin_effect(self, claim: Claim) -> datetime | None:
        """Record, before the outside call, that this attempt is about to make the effect; returns when it
        began, or None (make no call) when the claim is stale. Committed at once, so that a worker dying
        mid-call leaves it behind."""
        t = self.table
        with self.engine.begin() as conn:
            began: datetime | None = conn.execute(
                sa.update(t)
                .where(self._fenced(claim))
                .values(started_at=_now(), started_token=claim.token, updated_at=_now())
                .returning(t.c.started_at)
            ).scalar_one_or_none()
        return began

    def end_effect(self, claim: Claim) -> bool:
        """Record that the call this claim began has ended (returned or raised), so that a later attempt
        counts the vendor's search lag from now. Not fenced: a worker whose lease ran out during its call
        still says when that call ended; but only while no later claim has begun the effect again."""
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t)
                .where(t.c.id == uuid.UUID(claim.id), t.c.started_token == claim.token)
                .values(ended_at=_now())
            )
        return updated.rowcount == 1

    def complete(self, claim: Claim, result: Any = None, then: Callable[[Connection], None] | None = None) -> bool:
        """Done. ``then(conn)`` runs in the same transaction, only when the settle took (not stale)."""
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t)
                .where(self._fenced(claim))
                .values(
                    state="done",
                    done_at=_now(),
                    updated_at=_now(),
                    leased_until=None,
                    last_error=None,
                    result=result,
                )
            )
            if updated.rowcount != 1:
                return False
            if then is not None:
                then(conn)
        return True

    def complete_many(self, claims: Iterable[Claim]) -> int:
        """Several plain completions (no result, nothing else to write) in one statement."""
        t = self.table
        pairs = [(uuid.UUID(c.id), c.token) for c in claims]
        if not pairs:
            return 0
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t)
                .where(sa.tuple_(t.c.id, t.c.lease_token).in_(pairs), t.c.state == "pending")
                .values(state="done", done_at=_now(), updated_at=_now(), leased_until=None, last_error=None)
            )
        return updated.rowcount or 0

    def retry(self, claim: Claim, delay_seconds: float, error: str, *, counted: bool = True) -> bool:
        """Due again after ``delay_seconds``; an uncounted retry (throttled, deferred) gives the attempt back."""
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t)
                .where(self._fenced(claim))
                .values(
                    next_attempt_at=_now() + _seconds(max(0.0, delay_seconds)),
                    leased_until=None,
                    updated_at=_now(),
                    last_error=error[:MAX_ERROR_LENGTH],
                    attempts=t.c.attempts if counted else t.c.attempts - 1,
                )
            )
        return updated.rowcount == 1

    def release(self, claims: Iterable[Claim], error: str | None = None) -> int:
        """Give rows back untried (their channel went down or paused): due again at once, attempt not counted,
        their place in the order kept."""
        t = self.table
        count = 0
        with self.engine.begin() as conn:
            for claim in claims:
                values: dict[str, Any] = {"leased_until": None, "attempts": t.c.attempts - 1, "updated_at": _now()}
                if error is not None:
                    values["last_error"] = error[:MAX_ERROR_LENGTH]
                count += conn.execute(sa.update(t).where(self._fenced(claim)).values(**values)).rowcount or 0
        return count

    def bury(self, claim: Claim, error: str) -> bool:
        """Into the dead letter, with its last error: no retry can help (or it used all its attempts)."""
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t)
                .where(self._fenced(claim))
                .values(state="dead", leased_until=None, updated_at=_now(), last_error=error[:MAX_ERROR_LENGTH])
            )
        return updated.rowcount == 1

    # -- operators ------------------------------------------------------------------------------------
    def replay(self, row_id: str) -> bool:
        """Make one dead, held or waiting row due now (a dead row starts its attempts again)."""
        try:
            key = uuid.UUID(str(row_id))
        except ValueError:
            return False
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(self._replay_statement().where(t.c.id == key))
        return updated.rowcount == 1

    def replay_channel(self, channel: str) -> int:
        """Every dead, held or waiting row of a channel made due now."""
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(self._replay_statement().where(t.c.channel == channel))
        return updated.rowcount or 0

    def _replay_statement(self) -> Any:
        t = self.table
        return (
            sa.update(t)
            .where(
                sa.or_(
                    t.c.state.in_(("dead", "held")),
                    sa.and_(t.c.state == "pending", sa.or_(t.c.leased_until.is_(None), t.c.leased_until <= _now())),
                )
            )
            .values(
                attempts=sa.case((t.c.state == "dead", 0), else_=t.c.attempts),
                state="pending",
                next_attempt_at=_now(),
                updated_at=_now(),
            )
        )

    def hold(self, channels: Sequence[str]) -> int:
        """Park the pending rows of channels that cannot send (not configured): counted apart, never lost."""
        return self._move(channels, "pending", "held")

    def unhold(self, channels: Sequence[str]) -> int:
        """Held rows of channels that can send again become pending, due now."""
        return self._move(channels, "held", "pending")

    def _move(self, channels: Sequence[str], old: str, new: str) -> int:
        if not channels:
            return 0
        t = self.table
        condition = sa.and_(t.c.state == old, t.c.channel.in_(list(channels)))
        if old == "pending":
            condition = sa.and_(condition, sa.or_(t.c.leased_until.is_(None), t.c.leased_until <= _now()))
        values: dict[str, Any] = {"state": new, "updated_at": _now()}
        if new == "pending":
            values["next_attempt_at"] = _now()
        with self.engine.begin() as conn:
            return conn.execute(sa.update(t).where(condition).values(**values)).rowcount or 0

    def purge(self, retention: timedelta) -> int:
        """Delete done rows older than the retention period (the dead letter is kept until replayed)."""
        t = self.table
        cutoff = datetime.now(UTC) - retention
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(t).where(t.c.state == "done", t.c.done_at < cutoff)).rowcount or 0

    # -- reading --------------------------------------------------------------------------------------
    def pending(self) -> int:
        with self.engine.connect() as conn:
            return pending_count(conn, self.schema)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per channel, rows per state."""
        t = self.table
        query = sa.select(t.c.channel, t.c.state, sa.func.count().label("n")).group_by(t.c.channel, t.c.state)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row.channel, {})[row.state] = row.n
        return counts

    def backlog(self) -> dict[str, tuple[int, float]]:
        """Per channel: pending rows, and the age in seconds of the oldest (held rows do not count)."""
        t = self.table
        age = sa.func.extract("epoch", _now() - sa.func.min(t.c.created_at))
        query = (
            sa.select(t.c.channel, sa.func.count().label("n"), age.label("seconds"))
            .where(t.c.state == "pending")
            .group_by(t.c.channel)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {row.channel: (int(row.n), float(row.seconds)) for row in rows}

    def dead_letters(self, channel: str | None = None, limit: int = 100) -> list[Row]:
        """The dead letter, newest first."""
        t = self.table
        query = sa.select(t).where(t.c.state == "dead")
        if channel is not None:
            query = query.where(t.c.channel == channel)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.order_by(t.c.updated_at.desc(), t.c.seq.desc()).limit(limit))]

    def latest_attempts(self) -> dict[str, Row]:
        """Per channel, the row tried most recently (what an operator looks at first)."""
        t = self.table
        query = (
            sa.select(t)
            .where(t.c.attempts > 0)
            .ext(distinct_on(t.c.channel))
            .order_by(t.c.channel, t.c.updated_at.desc(), t.c.seq.desc())
        )
        with self.engine.connect() as conn:
            return {r.channel: _row(r) for r in conn.execute(query)}

    def get(self, row_id: str) -> Row | None:
        t = self.table
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(t).where(t.c.id == uuid.UUID(str(row_id)))).first()
        return _row(r) if r is not None else None

    def rows(self, channel: str | None = None) -> list[Row]:
        """Every row (of a channel), in the order they were written."""
        t = self.table
        query = sa.select(t).order_by(t.c.seq)
        if channel is not None:
            query = query.where(t.c.channel == channel)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]
