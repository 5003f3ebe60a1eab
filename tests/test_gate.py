"""The model queue shared by every process and host (drafting.model.gate), on both databases:
first come first served across processes, bounded, timed out, Retry-After from measured drafts,
turns reserved for refused requests, places of dead processes and gone hosts given up."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import insert, update

from drafting.config import REPO_ROOT
from drafting.model.gate import ModelGate, QueueFull, QueueTimeout
from drafting.store.schema import gate_places as places


def test_gate_is_first_come_first_served_and_bounded(database: str) -> None:
    gate = ModelGate(database, slots=1, queue_size=2, wait_s=5)
    first = gate.acquire(gate.enqueue())
    tickets = [gate.enqueue(), gate.enqueue()]
    with pytest.raises(QueueFull) as full:
        gate.enqueue()
    assert full.value.retry_after >= 1
    order: list[int] = []
    def take(i: int) -> None:  # record the order slots are granted in, before handing the slot on
        held = gate.acquire(tickets[i])
        order.append(i)
        held.release()

    threads = [threading.Thread(target=take, args=(i,))
               for i in (1, 0)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    assert gate.stats() == {"slots": 1, "active": 1, "waiting": 2, "queue_size": 2}
    first.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1] and gate.stats()["active"] == 0


def test_gate_slots_hold_across_processes_and_time_out(database: str) -> None:
    one, other = (ModelGate(database, slots=1, queue_size=4, wait_s=0.3) for _ in range(2))  # like two workers
    held = one.acquire(one.enqueue())
    started = time.monotonic()
    with pytest.raises(QueueTimeout) as timeout:
        other.acquire(other.enqueue())
    assert 0.25 < time.monotonic() - started < 2 and timeout.value.retry_after >= 1
    assert other.stats()["waiting"] == 0  # the timed-out place was given up
    held.release()
    other.acquire(other.enqueue()).release()


def test_gate_serves_in_arrival_order_across_processes(database: str) -> None:
    """Two workers' gates on one queue: a slot freed in worker A goes to worker B's request that
    came first, not to A's own waiter (which A wakes at once). The flock gate gave it to A's."""
    a, b = (ModelGate(database, slots=1, queue_size=4, wait_s=10) for _ in range(2))
    held = a.acquire(a.enqueue())
    first, second = b.enqueue(), a.enqueue()
    order: list[str] = []

    def take(gate: ModelGate, ticket, name: str) -> None:
        slot = gate.acquire(ticket)
        order.append(name)
        time.sleep(0.1)
        slot.release()

    threads = [threading.Thread(target=take, args=(a, second, "a")), threading.Thread(target=take, args=(b, first, "b"))]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert a.stats() == b.stats() == {"slots": 1, "active": 1, "waiting": 2, "queue_size": 4}
    held.release()
    for t in threads:
        t.join(10)
    assert order == ["b", "a"]


def test_retry_after_comes_from_measured_drafts_and_the_queue(database: str) -> None:
    gate = ModelGate(database, slots=1, queue_size=2, wait_s=10)
    assert gate.retry_after(0) == 1  # a free slot
    measured = gate.acquire(gate.enqueue())
    measured._started -= 3.9  # one draft measured at about 4 s
    measured.release()
    running = gate.acquire(gate.enqueue())
    waiting = [gate.enqueue(), gate.enqueue()]
    with pytest.raises(QueueFull) as full:
        gate.enqueue()
    assert 3 <= full.value.retry_after <= 4  # a place frees when the running draft (~4 s) ends
    assert 11 <= gate.retry_after(2) <= 12  # the slot itself: the running draft, then the two waiting ones
    running.release()
    for ticket in waiting:
        gate.cancel(ticket)


def test_a_refusal_reserves_the_turn_for_the_refused_request(database: str) -> None:
    """A refused request comes back with its token and gets the place that freed, ahead of a
    newcomer that asks at that moment; an unclaimed reservation expires."""
    gate = ModelGate(database, slots=1, queue_size=2, wait_s=10)
    running = gate.acquire(gate.enqueue())
    first, second = gate.enqueue(), gate.enqueue()
    with pytest.raises(QueueFull) as refused:
        gate.enqueue()
    token = refused.value.token
    assert token is not None and refused.value.retry_after >= 1
    running.release()
    promoted = gate.acquire(first)  # a place frees in the queue: it is the refused request's
    with pytest.raises(QueueFull) as newcomer:
        gate.enqueue()
    assert newcomer.value.token not in (None, token)
    back = gate.enqueue(token)
    assert back.id == token and gate.stats()["waiting"] == 2
    promoted.release()
    next_up = gate.acquire(second)
    with gate._tx() as conn:  # the newcomer never came back: its reservation expires
        conn.execute(update(places).where(places.c.id == newcomer.value.token).values(reserved_until=0))
    gate.enqueue()  # room again
    with pytest.raises(QueueFull):
        gate.enqueue(newcomer.value.token)  # an expired token is just a new request on a full queue
    next_up.release()


def test_a_reservation_never_leaves_the_model_idle(database: str) -> None:
    gate = ModelGate(database, slots=1, queue_size=1, wait_s=10)
    running = gate.acquire(gate.enqueue())
    waiting = gate.enqueue()
    with pytest.raises(QueueFull) as refused:
        gate.enqueue()
    running.release()
    gate.acquire(waiting).release()
    late = gate.enqueue()  # nobody waits: a newcomer is let in rather than the model idling
    back = gate.enqueue(refused.value.token)
    assert back.id < late.id  # and the reservation still goes first
    gate.acquire(back).release()
    gate.acquire(late).release()


def test_a_dead_process_place_is_given_up(database: str) -> None:
    code = ("import sys, time; from drafting.model.gate import ModelGate; "
            "g = ModelGate(sys.argv[1], 1, 4, 5); g.acquire(g.enqueue()); print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, database], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert child.stdout and child.stdout.readline().strip() == "held"
    gate = ModelGate(database, slots=1, queue_size=4, wait_s=5)
    assert gate.stats()["active"] == 1
    child.kill()
    child.wait()
    gate.acquire(gate.enqueue()).release()  # the dead holder's slot is taken back
    assert gate.stats() == {"slots": 1, "active": 0, "waiting": 0, "queue_size": 4}


def test_a_place_whose_host_stopped_beating_is_given_up(database: str) -> None:
    """Another host's places are not judged by pid (not ours to look up) but by heartbeat: a
    slot held by a host silent for over a minute is taken back; a live one is respected."""
    gate = ModelGate(database, slots=1, queue_size=4, wait_s=0.5)
    now = time.time()
    with gate._tx() as conn:
        conn.execute(insert(places).values(host="other-host", pid=1, queued=now, granted=now, heartbeat=now))
    with pytest.raises(QueueTimeout):  # the other host is alive: its slot holds
        gate.acquire(gate.enqueue())
    with gate._tx() as conn:
        conn.execute(update(places).where(places.c.host == "other-host").values(heartbeat=now - 120))
    gate._last_purge = 0.0
    gate.acquire(gate.enqueue()).release()
    assert gate.stats()["active"] == 0


def test_a_held_slot_keeps_beating(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from drafting.model import gate as gate_module

    monkeypatch.setattr(gate_module, "_BEAT_S", 0.05)
    gate = ModelGate(database, slots=1, queue_size=4, wait_s=1)
    slot = gate.acquire(ticket := gate.enqueue())
    with gate._tx() as conn:
        first = conn.execute(places.select().where(places.c.id == ticket.id)).one().heartbeat
    time.sleep(0.3)
    with gate._tx() as conn:
        later = conn.execute(places.select().where(places.c.id == ticket.id)).one().heartbeat
    slot.release()
    assert later > first


def test_a_waiter_is_told_how_many_drafts_end_before_it_starts(database: str) -> None:
    gate = ModelGate(database, slots=1, queue_size=4, wait_s=10)
    running = gate.acquire(gate.enqueue())
    first, second = gate.enqueue(), gate.enqueue()
    told: dict[str, list[int]] = {"first": [], "second": []}
    slots = {}

    def wait(name: str, ticket) -> None:
        slots[name] = gate.acquire(ticket, on_position=told[name].append)

    threads = [threading.Thread(target=wait, args=("first", first)), threading.Thread(target=wait, args=("second", second))]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert told == {"first": [1], "second": [2]}  # behind the running draft: 1, not 0
    running.release()
    threads[0].join(5)
    time.sleep(0.3)
    assert told["second"] == [2, 1]
    slots["first"].release()
    threads[1].join(5)
    slots["second"].release()


def test_a_reserved_turn_is_claimed_only_by_whoever_was_refused(database: str) -> None:
    gate = ModelGate(database, slots=1, queue_size=1, wait_s=10)
    running = gate.acquire(gate.enqueue(holder="user:1"))
    waiting = gate.enqueue(holder="user:1")
    with pytest.raises(QueueFull) as refused:
        gate.enqueue(holder="user:1")
    token = refused.value.token
    with pytest.raises(QueueFull):  # another user's request with the guessed token: a newcomer on a full queue
        gate.enqueue(token, holder="user:2")
    assert gate.enqueue(token, holder="user:1").id == token
    running.release()
    gate.acquire(waiting).release()
