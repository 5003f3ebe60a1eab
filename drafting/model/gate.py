"""The bounded, first-come-first-served queue in front of the model, shared by every process.

The embedded llama.cpp server writes one answer at a time, so drafts take turns for a small
number of model slots (more for a remote server that batches: `DRAFTING_API_MODEL_SLOTS`).
Places in the queue are rows of the project's database (`gate_places`), numbered in arrival
order; a request gets a slot when fewer requests are ahead of it than slots are free, whichever
process (API worker, page, CLI) on whichever host holds it: with PostgreSQL, every host of an
office or federation server respects the same queue. Each operation is one short transaction
under the database's write lock (SQLite) or an advisory lock (PostgreSQL). (Before, each worker
kept its own queue and took a slot by `flock`: a freed slot went to the same worker's waiters
while the other polled, and drafts on one worker waited 35 s at p95 while others took 1 s.)

A request that finds the queue full is refused at once (429); one that waits longer than the
limit gives up (503). Both carry `Retry-After` computed from the measured time of recent drafts
(shared by all processes) and what is running and waiting now. Places held by a process that
died are given up by the next process that looks: at once on the same host (its pid is gone),
after a minute without a heartbeat from another host (waiters beat as they poll, slot holders
every few seconds from a small thread).

A refusal also reserves the refused request's turn: the place that frees for it is kept until
its Retry-After and a grace period have passed, and given to it when it comes back with the
refusal's token (`X-Queue-Token` over HTTP). Without this, clients that resubmit the moment
their draft ends took every freed place, and a client that waited as told waited 7 s on a
Retry-After of 1 s. Reservations nobody claims expire.
"""
from __future__ import annotations

import heapq
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, and_, case, delete, func, insert, select, text, update

from drafting.store.database import database_url, engine_for, reading, upsert, writing
from drafting.store.processes import process_running
from drafting.store.schema import gate_measures as measures
from drafting.store.schema import gate_places as places

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how often a waiter looks again when no release in its own process woke it
_PURGE_S = 1.0  # how often a process looks for places held by dead processes
_BEAT_S = 5.0  # how often a slot holder says it is alive
_STALE_S = 60.0  # a place without a heartbeat for this long belongs to a host that is gone
_FIRST_ESTIMATE_S = 5.0  # at least this many seconds per draft is assumed before any has finished
_MAX_RETRY_AFTER_S = 3600
_MIN_RETRY_MS = 20
_RESERVE_GRACE_S = 5.0  # a reservation lasts Retry-After × 1.5 plus this
_GATE_LOCK = 7_265_102  # pg_advisory_xact_lock key of the queue's transactions
_PER_DRAFT = "seconds_per_draft"
_WAITING = and_(places.c.granted.is_(None), places.c.reserved_until.is_(None))
_COUNTS = select(func.count(places.c.granted), func.sum(case((_WAITING, 1), else_=0)),
                 func.sum(case((places.c.reserved_until.is_not(None), 1), else_=0)))


class _Refusal(Exception):
    """A refusal with the estimated wait before asking again."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s

    @property
    def retry_after(self) -> int:
        """Whole seconds, at least 1 (HTTP's Retry-After)."""
        return _whole_seconds(self.wait_s)

    @property
    def retry_after_ms(self) -> int:
        """The same estimate in milliseconds, for clients that can wait less than a second
        (drafts from a fast model take tens of milliseconds)."""
        return max(_MIN_RETRY_MS, min(_MAX_RETRY_AFTER_S * 1000, math.ceil(self.wait_s * 1000)))


class QueueFull(_Refusal):
    """Too many requests are already waiting. `token` claims the turn reserved for the request."""

    def __init__(self, wait_s: float, token: int | None = None) -> None:
        super().__init__("queue full", wait_s)
        self.token = token


class QueueTimeout(_Refusal):
    """The request waited for a slot longer than allowed."""

    def __init__(self, wait_s: float) -> None:
        super().__init__("queue wait timed out", wait_s)


def _whole_seconds(wait_s: float) -> int:
    return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(wait_s)))


@dataclass(frozen=True)
class Ticket:
    """A place in the queue."""

    id: int


class Slot:
    """A held model slot; `release()` (or leaving the `with` block) frees it. While held, a small
    thread keeps its heartbeat, so that other hosts do not take it for a dead one's."""

    def __init__(self, gate: ModelGate, ticket: Ticket) -> None:
        self._gate, self._ticket, self._started = gate, ticket, time.monotonic()
        self._released = threading.Event()
        threading.Thread(target=self._beat, name=f"gate-beat-{ticket.id}", daemon=True).start()

    def _beat(self) -> None:
        while not self._released.wait(_BEAT_S):
            try:
                self._gate._beat(self._ticket)
            except Exception as exc:  # the database is unreachable for a moment: beat again later
                log.warning("model queue heartbeat failed: %s", exc)

    def release(self) -> None:
        if not self._released.is_set():
            self._released.set()
            self._gate._release(self._ticket, time.monotonic() - self._started)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ModelGate:
    """The queue in the database at `where` (a SQLite path or a database URL)."""

    def __init__(self, where: str | Path, slots: int, queue_size: int, wait_s: float) -> None:
        self.slots, self.queue_size, self.wait_s = slots, queue_size, wait_s
        self.engine = engine_for(database_url(where))
        self._host = socket.gethostname()
        self._wake = threading.Condition()  # a release in this process wakes its waiters at once
        self._last_purge = 0.0

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with writing(self.engine) as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _GATE_LOCK})
            yield conn

    # -- the queue ---------------------------------------------------------------------------

    def _counts(self, conn: Connection) -> tuple[int, int, int]:
        """Requests holding a slot, waiting for one, and turns reserved for refused requests."""
        row = conn.execute(_COUNTS).one()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def stats(self) -> dict[str, int]:
        with self._tx() as conn:
            active, waiting, _ = self._counts(conn)
        return {"slots": self.slots, "active": active, "waiting": waiting, "queue_size": self.queue_size}

    def _mine(self) -> dict[str, object]:
        now = time.time()
        return {"host": self._host, "pid": os.getpid(), "queued": now, "heartbeat": now}

    def enqueue(self, token: int | None = None, holder: str = "") -> Ticket:
        """Take a place in the queue — the one reserved by an earlier refusal of the same `holder`
        when `token` names a live reservation — or raise `QueueFull` at once, reserving a turn
        that only `holder` can claim."""
        with self._tx() as conn:
            self._purge(conn, force=True)
            if token is not None and conn.execute(
                    update(places).where(places.c.id == token, places.c.reserved_until.is_not(None),
                                         places.c.holder == holder)
                    .values(reserved_until=None, **self._mine())).rowcount:
                return Ticket(token)
            active, waiting, reserved = self._counts(conn)
            # Reserved turns hold their places, but never leave the model without a next request:
            # a returning reservation still goes ahead of later arrivals (its number is older).
            if waiting + reserved < self.queue_size + max(0, self.slots - active) or waiting == 0:
                return Ticket(self._insert(conn, holder=holder))
            # Its place frees when the slots have freed once for each turn reserved before it.
            wait_s = self._wait(conn, reserved)
            reservation = self._insert(conn, holder=holder,
                                       reserved_until=time.time() + 1.5 * _whole_seconds(wait_s) + _RESERVE_GRACE_S)
        raise QueueFull(wait_s, reservation)  # after the commit: the reservation is kept

    def _insert(self, conn: Connection, **values: object) -> int:
        key = conn.execute(insert(places).values(**self._mine(), **values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def acquire(self, ticket: Ticket, on_position: Callable[[int], None] | None = None) -> Slot:
        """Wait for a slot (first come, first served across processes and hosts); `QueueTimeout`
        after `wait_s` seconds. `on_position` is told, whenever it changes, how many drafts must
        end before this one starts: those waiting ahead of it, and the running ones whose slots it
        waits for (a user behind one running draft is told 1, not 0)."""
        deadline = time.monotonic() + self.wait_s
        reported: int | None = None
        beat_at = 0.0  # the place's heartbeat is due (a write): at once, then every _PURGE_S
        try:
            while True:
                # A look without the lock first: most polls find nothing changed, and a write
                # transaction per poll per waiter kept SQLite's one writer lock busy.
                with reading(self.engine) as conn:
                    ahead, active = self._position(conn, ticket)
                if ahead < self.slots - active or time.monotonic() >= min(deadline, beat_at):
                    with self._tx() as conn:  # under the lock: look again, then grant, time out or beat
                        self._purge(conn)
                        ahead, active = self._position(conn, ticket)
                        if ahead < self.slots - active:
                            conn.execute(update(places).where(places.c.id == ticket.id)
                                         .values(granted=time.time(), heartbeat=time.time()))
                            return Slot(self, ticket)
                        if time.monotonic() >= deadline:
                            raise QueueTimeout(self._wait(conn, ahead))
                        conn.execute(update(places).where(places.c.id == ticket.id).values(heartbeat=time.time()))
                        beat_at = time.monotonic() + _PURGE_S
                before = ahead + active - self.slots + 1
                if on_position is not None and before != reported:
                    reported = before
                    on_position(before)
                with self._wake:
                    self._wake.wait(min(_POLL_S, max(0.0, deadline - time.monotonic())))
        except BaseException:
            self.cancel(ticket)
            raise

    def _position(self, conn: Connection, ticket: Ticket) -> tuple[int, int]:
        """Requests waiting ahead of `ticket`, and slots held."""
        ahead = int(conn.scalar(select(func.count()).select_from(places).where(_WAITING, places.c.id < ticket.id)) or 0)
        return ahead, self._counts(conn)[0]

    def cancel(self, ticket: Ticket) -> None:
        """Give up a place that will not be used."""
        with self._tx() as conn:
            conn.execute(delete(places).where(places.c.id == ticket.id, places.c.granted.is_(None)))

    def retry_after(self, ahead: int) -> int:
        """Seconds until a request with `ahead` requests waiting before it would probably get a slot."""
        with self._tx() as conn:
            return _whole_seconds(self._wait(conn, ahead))

    # -- internals -------------------------------------------------------------------------

    def _wait(self, conn: Connection, ahead: int) -> float:
        """Seconds until a request with `ahead` waiting before it would get a slot: each slot frees when
        its draft has run the measured time per draft, then serves the next in line."""
        measured = conn.scalar(select(measures.c.value).where(measures.c.name == _PER_DRAFT))
        now = time.time()
        elapsed = [now - float(row[0]) for row in conn.execute(select(places.c.granted).where(places.c.granted.is_not(None)))]
        # Nothing measured yet: guess short (twice the longest running so far, at least a few
        # seconds) — coming back early costs a refusal; coming back late wastes a free model.
        per_draft = float(measured) if measured is not None else max(_FIRST_ESTIMATE_S, 2 * max(elapsed, default=0.0))
        free_at = [max(0.0, per_draft - e) for e in elapsed]
        free_at += [0.0] * max(0, self.slots - len(free_at))
        heapq.heapify(free_at)
        for _ in range(ahead):
            heapq.heappush(free_at, heapq.heappop(free_at) + per_draft)
        return free_at[0]

    def _beat(self, ticket: Ticket) -> None:
        with self._tx() as conn:
            conn.execute(update(places).where(places.c.id == ticket.id).values(heartbeat=time.time()))

    def _release(self, ticket: Ticket, held_s: float) -> None:
        with self._tx() as conn:
            conn.execute(delete(places).where(places.c.id == ticket.id))
            measured = conn.scalar(select(measures.c.value).where(measures.c.name == _PER_DRAFT))
            value = held_s if measured is None else 0.8 * float(measured) + 0.2 * held_s
            upsert(conn, measures, {"name": _PER_DRAFT}, {"value": value})
        with self._wake:
            self._wake.notify_all()

    def _purge(self, conn: Connection, force: bool = False) -> None:
        """Give up expired reservations, the places of processes on this host that no longer run,
        and places anywhere whose heartbeat stopped (a host that is gone)."""
        now = time.monotonic()
        if not force and now - self._last_purge < _PURGE_S:
            return
        self._last_purge = now
        conn.execute(delete(places).where(places.c.reserved_until < time.time()))
        conn.execute(delete(places).where(places.c.reserved_until.is_(None), places.c.heartbeat < time.time() - _STALE_S))
        mine = and_(places.c.host == self._host, places.c.reserved_until.is_(None))
        pids = [int(row[0]) for row in conn.execute(select(places.c.pid).where(mine).distinct())]
        dead = [pid for pid in pids if not process_running(pid)]
        if dead:
            conn.execute(delete(places).where(mine, places.c.pid.in_(dead)))
