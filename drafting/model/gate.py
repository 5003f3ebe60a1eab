"""The bounded, first-come-first-served queue in front of the model, shared by every process.

The embedded llama.cpp server writes one answer at a time, so drafts take turns for a small
number of model slots. Places in the queue are rows of one SQLite file beside the model's run
files, numbered in arrival order; a request gets a slot when fewer requests are ahead of it
than slots are free, whichever process (API worker, page, CLI) holds it. (Before, each worker
kept its own queue and took a slot by `flock`: a freed slot went to the same worker's waiters
while the other polled, and drafts on one worker waited 35 s at p95 while others took 1 s.)

A request that finds the queue full is refused at once (429); one that waits longer than the
limit gives up (503). Both carry `Retry-After` computed from the measured time of recent drafts
(shared by all processes) and what is running and waiting now. Places held by a process that
died are given up by the next process that looks.

A refusal also reserves the refused request's turn: the place that frees for it is kept until
its Retry-After and a grace period have passed, and given to it when it comes back with the
refusal's token (`X-Queue-Token` over HTTP). Without this, clients that resubmit the moment
their draft ends took every freed place, and a client that waited as told waited 7 s on a
Retry-After of 1 s. Reservations nobody claims expire.
"""
from __future__ import annotations

import contextlib
import heapq
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_POLL_S = 0.05  # how often a waiter looks again when no release in its own process woke it
_PURGE_S = 1.0  # how often a process looks for places held by dead processes
_FIRST_ESTIMATE_S = 5.0  # at least this many seconds per draft is assumed before any has finished
_MAX_RETRY_AFTER_S = 3600
_MIN_RETRY_MS = 20
_RESERVE_GRACE_S = 5.0  # a reservation lasts Retry-After × 1.5 plus this
_COUNTS = ("SELECT COUNT(granted), SUM(granted IS NULL AND reserved_until IS NULL), "
           "SUM(reserved_until IS NOT NULL) FROM places")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS places (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL, pid INTEGER NOT NULL,
    queued REAL NOT NULL, granted REAL,
    reserved_until REAL  -- a refused request's turn, kept until then (NULL: a request in the queue)
);
CREATE TABLE IF NOT EXISTS measures (name TEXT PRIMARY KEY, value REAL NOT NULL);
"""


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
    """A held model slot; `release()` (or leaving the `with` block) frees it."""

    def __init__(self, gate: ModelGate, ticket: Ticket) -> None:
        self._gate, self._ticket, self._started = gate, ticket, time.monotonic()
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._gate._release(self._ticket, time.monotonic() - self._started)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ModelGate:
    def __init__(self, lock_dir: Path, slots: int, queue_size: int, wait_s: float) -> None:
        self.slots, self.queue_size, self.wait_s = slots, queue_size, wait_s
        lock_dir.mkdir(parents=True, exist_ok=True)
        self.path = lock_dir / "model-gate.sqlite3"
        self._host = socket.gethostname()
        self._wake = threading.Condition()  # a release in this process wakes its waiters at once
        self._local = threading.local()
        self._last_purge = 0.0
        self._connection()  # creates the schema

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        for attempt in range(50):
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.01 * (attempt + 1))
        else:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(places)")}
            if "reserved_until" not in columns:  # a queue file from before reservations
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it meanwhile
                    conn.execute("ALTER TABLE places ADD COLUMN reserved_until REAL")
            self._local.conn = conn
        return conn

    # -- the queue ---------------------------------------------------------------------------

    def _counts(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """Requests holding a slot, waiting for one, and turns reserved for refused requests."""
        active, waiting, reserved = conn.execute(_COUNTS).fetchone()
        return int(active or 0), int(waiting or 0), int(reserved or 0)

    def stats(self) -> dict[str, int]:
        active, waiting, _ = self._counts(self._connection())
        return {"slots": self.slots, "active": active, "waiting": waiting, "queue_size": self.queue_size}

    def enqueue(self, token: int | None = None) -> Ticket:
        """Take a place in the queue — the one reserved by an earlier refusal when `token` names a
        live reservation — or raise `QueueFull` at once, reserving a turn."""
        with self._tx() as conn:
            self._purge(conn, force=True)
            if token is not None and conn.execute(
                    "UPDATE places SET reserved_until = NULL, host = ?, pid = ?, queued = ? "
                    "WHERE id = ? AND reserved_until IS NOT NULL", (self._host, os.getpid(), time.time(), token)).rowcount:
                return Ticket(token)
            active, waiting, reserved = self._counts(conn)
            # Reserved turns hold their places, but never leave the model without a next request:
            # a returning reservation still goes ahead of later arrivals (its number is older).
            if waiting + reserved < self.queue_size + max(0, self.slots - active) or waiting == 0:
                cur = conn.execute("INSERT INTO places (host, pid, queued) VALUES (?, ?, ?)",
                                   (self._host, os.getpid(), time.time()))
                return Ticket(int(cur.lastrowid or 0))
            # Its place frees when the slots have freed once for each turn reserved before it.
            wait_s = self._wait(conn, reserved)
            cur = conn.execute("INSERT INTO places (host, pid, queued, reserved_until) VALUES (?, ?, ?, ?)",
                               (self._host, os.getpid(), time.time(),
                                time.time() + 1.5 * _whole_seconds(wait_s) + _RESERVE_GRACE_S))
            reservation = int(cur.lastrowid or 0)
        raise QueueFull(wait_s, reservation)  # after the commit: the reservation is kept

    def acquire(self, ticket: Ticket, on_position: Callable[[int], None] | None = None) -> Slot:
        """Wait for a slot (first come, first served across processes); `QueueTimeout` after
        `wait_s` seconds. `on_position` is told the number of requests ahead when it changes."""
        deadline = time.monotonic() + self.wait_s
        reported: int | None = None
        try:
            while True:
                with self._tx() as conn:
                    self._purge(conn)
                    ahead = conn.execute("SELECT COUNT(*) FROM places WHERE granted IS NULL AND reserved_until IS NULL"
                                         " AND id < ?", (ticket.id,)).fetchone()[0]
                    active = self._counts(conn)[0]
                    if ahead < self.slots - active:
                        conn.execute("UPDATE places SET granted = ? WHERE id = ?", (time.time(), ticket.id))
                        return Slot(self, ticket)
                    if time.monotonic() >= deadline:
                        raise QueueTimeout(self._wait(conn, ahead))
                if on_position is not None and ahead != reported:
                    reported = ahead
                    on_position(ahead)
                with self._wake:
                    self._wake.wait(min(_POLL_S, max(0.0, deadline - time.monotonic())))
        except BaseException:
            self.cancel(ticket)
            raise

    def cancel(self, ticket: Ticket) -> None:
        """Give up a place that will not be used."""
        with self._tx() as conn:
            conn.execute("DELETE FROM places WHERE id = ? AND granted IS NULL", (ticket.id,))

    def retry_after(self, ahead: int) -> int:
        """Seconds until a request with `ahead` requests waiting before it would probably get a slot."""
        with self._tx() as conn:
            return _whole_seconds(self._wait(conn, ahead))

    # -- internals -------------------------------------------------------------------------

    def _wait(self, conn: sqlite3.Connection, ahead: int) -> float:
        """Seconds until a request with `ahead` waiting before it would get a slot: each slot frees when
        its draft has run the measured time per draft, then serves the next in line."""
        row = conn.execute("SELECT value FROM measures WHERE name = 'seconds_per_draft'").fetchone()
        now = time.time()
        elapsed = [now - granted for (granted,) in conn.execute("SELECT granted FROM places WHERE granted IS NOT NULL")]
        # Nothing measured yet: guess short (twice the longest running so far, at least a few
        # seconds) — coming back early costs a refusal; coming back late wastes a free model.
        per_draft = float(row[0]) if row else max(_FIRST_ESTIMATE_S, 2 * max(elapsed, default=0.0))
        free_at = [max(0.0, per_draft - e) for e in elapsed]
        free_at += [0.0] * max(0, self.slots - len(free_at))
        heapq.heapify(free_at)
        for _ in range(ahead):
            heapq.heappush(free_at, heapq.heappop(free_at) + per_draft)
        return free_at[0]

    def _release(self, ticket: Ticket, held_s: float) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM places WHERE id = ?", (ticket.id,))
            row = conn.execute("SELECT value FROM measures WHERE name = 'seconds_per_draft'").fetchone()
            value = held_s if row is None else 0.8 * float(row[0]) + 0.2 * held_s
            conn.execute("INSERT OR REPLACE INTO measures (name, value) VALUES ('seconds_per_draft', ?)", (value,))
        with self._wake:
            self._wake.notify_all()

    def _purge(self, conn: sqlite3.Connection, force: bool = False) -> None:
        """Give up expired reservations and the places of processes on this host that no longer run."""
        now = time.monotonic()
        if not force and now - self._last_purge < _PURGE_S:
            return
        self._last_purge = now
        conn.execute("DELETE FROM places WHERE reserved_until < ?", (time.time(),))
        for (pid,) in conn.execute("SELECT DISTINCT pid FROM places WHERE host = ? AND reserved_until IS NULL",
                                   (self._host,)).fetchall():
            if not _running(pid):
                conn.execute("DELETE FROM places WHERE host = ? AND pid = ? AND reserved_until IS NULL", (self._host, pid))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not running
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
