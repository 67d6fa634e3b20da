"""The loop that makes each outbox row's effect: claim due rows, send each with no transaction open, settle.

A sender makes one row's effect (publishes a job to the broker, calls a vendor's API) and answers how it
went by returning (done) or raising (see `jobs.errors.EffectError`). The relay turns that into the row's
next state, row by row, so that no row holds up another:

- done: the row is done, with the sender's result (and whatever else the sender writes, in the same
  transaction);
- a permanent refusal, or the ``max_attempts``-th failure: the dead letter, with the last error; the next
  rows go on at once;
- throttled (a 429): the row waits ``retry_after`` (uncounted) and its whole channel pauses as long, so
  nothing is sent there, and nothing probes, before the other side said it may;
- deferred: the row waits ``retry_after`` (uncounted), the others go on;
- any other failure: the attempt counts and the row waits its own backoff (exponential, with jitter, never
  less than a ``retry_after`` it was given); the others go on. When the sender can tell whether its channel
  answers at all (``ping``) and it does not, the failure is the channel's, not the row's: the row and the
  rest of the channel's claims go back untried and the relay probes the channel every ``probe_interval``
  until it answers, so that recovery after an outage of any length costs at most one probe interval.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from servicekit.logs import request_id_context
from sqlalchemy.engine import Connection, Engine

from ..dispatcher import Dispatcher
from ..errors import Deferred, EffectError, PublishError
from ..spi import REQUEST_ID_ATTRIBUTE
from .store import Claim, Outbox

log = logging.getLogger("jobs.outbox")


class StaleClaim(Exception):
    """The claim was fenced out (another worker claimed the row since): make no effect."""


class ChannelDown(PublishError):
    """The channels a pass found unreachable; their rows went back untried."""

    def __init__(self, channels: Sequence[str], cause: BaseException):
        super().__init__(f"{', '.join(channels)} unreachable: {cause}")
        self.channels = list(channels)


@dataclass
class Outcome:
    """What a sender returns: the row's result, and what else to write in the transaction that marks it done
    (it runs only if the settle takes)."""

    result: Any = None
    then: Callable[[Connection], None] | None = None


@dataclass
class Attempt:
    """One attempt at one claimed row, as a sender sees it."""

    claim: Claim
    outbox: Outbox
    #: When this attempt began the effect (`begin_effect`), if it did.
    began: datetime | None = None

    @property
    def id(self) -> str:
        return self.claim.id

    @property
    def number(self) -> int:
        return self.claim.attempts

    @property
    def earlier_start(self) -> datetime | None:
        """When an earlier attempt began the effect (None if none did): it may have acted unseen."""
        return self.claim.started_at

    @property
    def earlier_end(self) -> datetime | None:
        """When that attempt's call ended, as it recorded; None while it has not (it is still calling after
        its lease ran out, or its worker died during the call)."""
        started, ended = self.claim.started_at, self.claim.ended_at
        return ended if started is not None and ended is not None and ended >= started else None

    def begin_effect(self) -> None:
        """Call right before the outside call that makes the effect: records that it may have happened from
        now on (committed), so that a later attempt reconciles before acting again. Raises `StaleClaim`
        when another worker holds the row now: then no call may be made. The relay records when the
        call ended, however it ended."""
        began = self.outbox.begin_effect(self.claim)
        if began is None:
            raise StaleClaim(self.claim.id)
        self.began = began

    def end_effect(self) -> None:
        """The call begun by `begin_effect` returned or raised: recorded, or only logged when the database
        cannot be reached (a later attempt then waits as for a worker that died during its call)."""
        if self.began is None:
            return
        try:
            self.outbox.end_effect(self.claim)
        except sa.exc.SQLAlchemyError:
            log.warning("outbox row %s (%s): the end of its call was not recorded", self.id, self.claim.type)


class Sender(Protocol):
    """A sender may also say ``begins_every_effect = True``: it calls `Attempt.begin_effect` before every
    call that acts, so a claim lost before beginning made none and does not use up an attempt. It may
    offer ``ping(channel)`` (see the module's docstring)."""

    def send(self, attempt: Attempt) -> Outcome | None:
        """Make the row's effect; return when it is made, raise (`EffectError`) when it is not."""


class DispatcherSender:
    """Publishes each row as a job through a dispatcher's provider (the bus)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def send(self, attempt: Attempt) -> Outcome | None:
        self.dispatcher.send(attempt.claim.job())
        return None

    def ping(self, channel: str) -> None:
        self.dispatcher.provider.ping()


@dataclass
class PassReport:
    tried: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    throttled: int = 0
    down: list[str] = field(default_factory=list)


def default_jitter() -> float:
    return random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not a secret


class OutboxRelay:
    """Makes the effect of every committed outbox row, at least once, without ever letting one row hold
    up the rows behind it."""

    def __init__(
        self,
        engine: Engine | Outbox,
        schema: str | None = None,
        dispatcher: Dispatcher | None = None,
        *,
        sender: Sender | None = None,
        channels: Sequence[str] | Callable[[], Sequence[str]] | None = None,
        batch_size: int = 100,
        lease_seconds: float = 60.0,
        max_attempts: int = 8,
        poll_interval: float = 0.5,
        backoff_initial: float = 0.5,
        backoff_max: float = 300.0,
        retry_after_max: float = 3600.0,
        probe_interval: float = 0.5,
        retention: timedelta | None = timedelta(days=7),
        purge_every: float = 3600.0,
        jitter: Callable[[], float] = default_jitter,
        on_settle: Callable[[Claim, str], None] | None = None,
    ):
        self.outbox = engine if isinstance(engine, Outbox) else Outbox(engine, schema or "")
        if sender is None:
            if dispatcher is None:
                raise ValueError("OutboxRelay needs a dispatcher or a sender")
            sender = DispatcherSender(dispatcher)
        self.sender = sender
        self.dispatcher = dispatcher
        self.channels = channels
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.probe_interval = probe_interval
        self.retention = retention
        self.purge_every = purge_every
        self.jitter = jitter
        self.on_settle = on_settle
        self.stop_event = threading.Event()
        self._paused_until: dict[str, float] = {}

    # Kept for callers that reach the table or engine through the relay.
    @property
    def engine(self) -> Engine:
        return self.outbox.engine

    @property
    def schema(self) -> str:
        return self.outbox.schema

    @property
    def table(self) -> sa.Table:
        return self.outbox.table

    def backoff(self, failures: int) -> float:
        """Exponential (initial × 2^(failures-1)), capped, with jitter so that retries do not come in waves."""
        return min(self.backoff_max, self.backoff_initial * 2.0 ** max(0, failures - 1)) * self.jitter()

    # -- one pass -----------------------------------------------------------------------------------
    def _open_channels(self, down: Sequence[str]) -> list[str] | None:
        """The channels to claim from now: the wanted ones (None: all) but those paused or found down."""
        wanted = self.channels() if callable(self.channels) else self.channels
        now = time.monotonic()
        closed = {c for c, until in self._paused_until.items() if until > now} | set(down)
        if wanted is None:
            return None if not closed else sorted(set(self.outbox.counts()) - closed)
        return [c for c in wanted if c not in closed]

    def run_pass(self, limit: int | None = None) -> PassReport:
        """Claim and send due rows until none is left (or ``limit`` were tried); rows written meanwhile
        (follow-ups) are taken too. Raises `ChannelDown` after giving back the rows of a channel that
        does not answer."""
        report = PassReport()
        limit = limit if limit is not None else self.batch_size
        down_cause: BaseException | None = None
        while report.tried < limit:
            channels = self._open_channels(report.down)
            if channels is not None and not channels:
                break
            claims = self.outbox.claim(
                channels=channels,
                limit=min(self.batch_size, limit - report.tried),
                lease_seconds=self.lease_seconds,
                count_lost_claims=not getattr(self.sender, "begins_every_effect", False),
            )
            if not claims:
                break
            plain_done: list[Claim] = []
            for claim in claims:
                if claim.channel in report.down or self._paused_until.get(claim.channel, 0) > time.monotonic():
                    self.outbox.release([claim])  # its channel stopped during this batch: untried
                    continue
                report.tried += 1
                cause = self._one(claim, report, plain_done)
                if cause is not None:
                    down_cause = cause
            if plain_done:
                self.outbox.complete_many(plain_done)
                for claim in plain_done:
                    self._settled(claim, "done")
        if report.down and down_cause is not None:
            raise ChannelDown(report.down, down_cause)
        return report

    def run_once(self) -> int:
        """One pass; returns how many rows were done. Raises `PublishError` (`ChannelDown`) when the
        broker does not answer (its rows stay pending, untried)."""
        return self.run_pass().done

    def _one(self, claim: Claim, report: PassReport, plain_done: list[Claim]) -> BaseException | None:
        """Send one claimed row and settle it; returns the cause when its channel turned out to be down."""
        attempt = Attempt(claim, self.outbox)
        with request_id_context(claim.attributes.get(REQUEST_ID_ATTRIBUTE)):
            try:
                try:
                    outcome = self.sender.send(attempt)
                finally:
                    attempt.end_effect()
            except StaleClaim:
                log.info("outbox row %s (%s) taken over by another worker; left to it", claim.id, claim.type)
                return None
            except Exception as exc:  # noqa: BLE001 - whatever the broker's or vendor's client raises
                return self._failed(claim, exc, report)
            if outcome is None or (outcome.result is None and outcome.then is None):
                plain_done.append(claim)
            elif self.outbox.complete(claim, outcome.result, outcome.then):
                self._settled(claim, "done")
            else:
                log.info("outbox row %s (%s) done, but another worker holds it now", claim.id, claim.type)
            report.done += 1
            return None

    def _failed(self, claim: Claim, exc: Exception, report: PassReport) -> BaseException | None:
        error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, EffectError) else str(exc)
        retry_after = getattr(exc, "retry_after", None)
        retry_after = min(float(retry_after), self.retry_after_max) if retry_after is not None else None
        where = {"job_id": claim.id, "job_type": claim.type, "channel": claim.channel, "attempt": claim.attempts}
        if isinstance(exc, Deferred):
            self.outbox.retry(claim, max(retry_after or 0.0, 0.01), error, counted=False)
            log.info("outbox row %s (%s) deferred %.1fs: %s", claim.id, claim.type, retry_after or 0.0, error)
            return None
        if isinstance(exc, EffectError) and exc.throttled:
            wait = retry_after if retry_after is not None else self.backoff(1)
            self._paused_until[claim.channel] = time.monotonic() + wait
            self.outbox.retry(claim, wait, error, counted=False)
            report.throttled += 1
            self._settled(claim, "throttled")
            log.warning("outbox channel %s throttled for %.1fs: %s", claim.channel, wait, error, extra=where)
            return None
        if isinstance(exc, EffectError) and exc.permanent:
            self._bury(claim, error, report, where)
            return None
        if not isinstance(exc, EffectError):
            log.warning("outbox row %s (%s) raised", claim.id, claim.type, exc_info=True, extra=where)
        ping = getattr(self.sender, "ping", None)
        if ping is not None:
            try:
                ping(claim.channel)
            except Exception as probe:  # noqa: BLE001 - the channel itself does not answer
                self.outbox.release([claim], error=error)
                report.down.append(claim.channel)
                log.warning("outbox channel %s unreachable (%s); its rows wait for it", claim.channel, probe)
                return exc
        if claim.attempts >= self.max_attempts:
            self._bury(claim, f"{error} (attempt {claim.attempts} of {self.max_attempts})", report, where)
            return None
        delay = max(self.backoff(claim.attempts), retry_after or 0.0)
        self.outbox.retry(claim, delay, error)
        report.retried += 1
        self._settled(claim, "retry")
        log.warning(
            "outbox row %s (%s) attempt %s failed, retried in %.1fs: %s",
            claim.id,
            claim.type,
            claim.attempts,
            delay,
            error,
            extra=where,
        )
        return None

    def _bury(self, claim: Claim, error: str, report: PassReport, where: dict[str, Any]) -> None:
        if self.outbox.bury(claim, error):
            report.dead += 1
            self._settled(claim, "dead")
            log.error("outbox row %s (%s) dead-lettered: %s", claim.id, claim.type, error, extra=where)

    def _settled(self, claim: Claim, outcome: str) -> None:
        if self.on_settle is not None:
            self.on_settle(claim, outcome)

    # -- the loop -----------------------------------------------------------------------------------
    def purge(self) -> int:
        """Delete done rows older than the retention period."""
        return self.outbox.purge(self.retention) if self.retention is not None else 0

    def pending(self) -> int:
        return self.outbox.pending()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Pass after pass until `stop` (or `self.stop_event`) is set. While the database is down it backs
        off up to `backoff_max`; while a channel is down it probes it every `probe_interval`; while a
        channel is throttled it waits for the time the other side gave."""
        stop = stop or self.stop_event
        delay = self.backoff_initial
        next_purge = time.monotonic() + self.purge_every
        while not stop.is_set():
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + self.purge_every
                try:
                    self.purge()
                except sa.exc.SQLAlchemyError:
                    log.warning("outbox relay: purge failed; retried later", exc_info=True)
            try:
                report = self.run_pass(self.batch_size)
            except ChannelDown as down:
                self._wait_for(down.channels, stop)
                continue
            except Exception as exc:  # noqa: BLE001 - the database is down: wait, then try again
                log.warning("outbox relay backing off %.1fs: %s", delay, exc)
                stop.wait(delay)
                delay = min(delay * 2, max(self.backoff_max, self.backoff_initial))
                continue
            delay = self.backoff_initial
            if report.tried < self.batch_size:
                stop.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        now = time.monotonic()
        pauses = [until - now for until in self._paused_until.values() if until > now]
        # A pause ending before the next poll is waited out exactly; a longer one is the claims' business.
        return min([self.poll_interval, *pauses]) if pauses else self.poll_interval

    def _wait_for(self, channels: Sequence[str], stop: threading.Event) -> None:
        """Probe the channels every `probe_interval` until they all answer (or `stop`)."""
        ping = getattr(self.sender, "ping", None)
        if ping is None:
            stop.wait(self.poll_interval)
            return
        while not stop.wait(self.probe_interval):
            try:
                for channel in channels:
                    ping(channel)
            except Exception:  # noqa: BLE001, S112 - still down: keep waiting
                continue
            log.info("outbox relay: %s answers again; sending", ", ".join(channels))
            return

    def stop(self) -> None:
        self.stop_event.set()
