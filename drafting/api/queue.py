"""The bounded queue in front of the model.

The embedded llama.cpp server writes one answer at a time, so drafts take turns for a small
number of model slots. Within a process, waiting requests are served first come, first served;
across worker processes each slot is a lock file (`flock`), so `serve --workers N` still sends
one generation at a time. A request that finds the queue full is refused at once (429); one
that waits longer than the limit gives up (503). Both carry an estimate for `Retry-After`.
"""
from __future__ import annotations

import fcntl
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

_POLL_S = 0.05  # how often the head of the queue retries a slot held by another process
_FIRST_ESTIMATE_S = 30.0  # assumed seconds per draft before any has finished
_MAX_RETRY_AFTER_S = 3600


class QueueFull(Exception):
    """Too many requests are already waiting."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("queue full")
        self.retry_after = retry_after


class QueueTimeout(Exception):
    """The request waited for a slot longer than allowed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("queue wait timed out")
        self.retry_after = retry_after


class Ticket:
    """A place in the queue."""


class Slot:
    """A held model slot; `release()` (or leaving the `with` block) frees it."""

    def __init__(self, gate: ModelGate, fd: int) -> None:
        self._gate, self._fd, self._started = gate, fd, time.monotonic()
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._gate._release(self._fd, time.monotonic() - self._started)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ModelGate:
    def __init__(self, lock_dir: Path, slots: int, queue_size: int, wait_s: float) -> None:
        self.slots, self.queue_size, self.wait_s = slots, queue_size, wait_s
        self._lock_paths = [lock_dir / f"model-slot-{i}.lock" for i in range(slots)]
        lock_dir.mkdir(parents=True, exist_ok=True)
        self._cond = threading.Condition()
        self._queue: deque[Ticket] = deque()
        self._active = 0
        self._seconds_per_draft = _FIRST_ESTIMATE_S

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"slots": self.slots, "active": self._active, "waiting": len(self._queue),
                    "queue_size": self.queue_size}

    def retry_after(self, ahead: int) -> int:
        """Seconds until a request with `ahead` drafts before it would probably get a slot."""
        estimate = self._seconds_per_draft * (ahead + 1) / self.slots
        return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(estimate)))

    def enqueue(self) -> Ticket:
        """Take a place in the queue, or raise `QueueFull` at once."""
        with self._cond:
            if len(self._queue) >= self.queue_size + max(0, self.slots - self._active):
                raise QueueFull(self.retry_after(len(self._queue) + self._active))
            ticket = Ticket()
            self._queue.append(ticket)
            return ticket

    def acquire(self, ticket: Ticket, on_position: Callable[[int], None] | None = None) -> Slot:
        """Wait for a slot (first come, first served); `QueueTimeout` after `wait_s` seconds.

        `on_position` is told the number of requests ahead whenever it changes.
        """
        deadline = time.monotonic() + self.wait_s
        reported: int | None = None
        with self._cond:
            try:
                while True:
                    ahead = self._queue.index(ticket)
                    if ahead == 0 and (fd := self._try_lock()) is not None:
                        self._queue.popleft()
                        self._active += 1
                        self._cond.notify_all()
                        return Slot(self, fd)
                    if on_position is not None and ahead != reported:
                        reported = ahead
                        on_position(ahead)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise QueueTimeout(self.retry_after(ahead + self._active))
                    self._cond.wait(min(remaining, _POLL_S) if ahead == 0 else remaining)
            except BaseException:
                self._leave(ticket)
                raise

    def cancel(self, ticket: Ticket) -> None:
        """Give up a place that will not be used."""
        with self._cond:
            self._leave(ticket)

    def _leave(self, ticket: Ticket) -> None:
        if ticket in self._queue:
            self._queue.remove(ticket)
            self._cond.notify_all()

    def _try_lock(self) -> int | None:
        for path in self._lock_paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        return None

    def _release(self, fd: int, held_s: float) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        with self._cond:
            self._active -= 1
            self._seconds_per_draft = 0.8 * self._seconds_per_draft + 0.2 * held_s
            self._cond.notify_all()
