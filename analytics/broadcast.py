"""Tells the event's websocket group that its statistics changed (after commit, never failing the caller).

The message is a tiny "something changed" ping, not the numbers: each consumer coalesces pings
and sends its client a whole fresh snapshot at most every 250 ms, so a ping dropped by
channels-redis past its capacity costs nothing the next ping does not repair.

One change, one ping per affected event: every write of the statistics (apply, rebuild, an alert
raised or resolved) calls `stats_changed_on_commit` inside its transaction, and an operation made
of several transactions (the relay's refresh, a sweep pass, the periodic backstop) runs inside
`one_ping_per_event`, which holds the pings of its commits and sends each event one at its end.
"""

import asyncio
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Per thread: events whose changes await their commit (`due`), and pings held by one_ping_per_event (`held`).
_local = threading.local()


def group_name(event_id: int) -> str:
    return f"event-stats-{event_id}"


# Event loops serving stats consumers in this process (embedded mode, see below).
_consumer_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def register_consumer_loop(loop: asyncio.AbstractEventLoop) -> None:
    _consumer_loops.add(loop)


def stats_changed(*, event_id: int) -> None:
    """Ping the event's group now. Redis being down delays the dashboard; it never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "stats.changed", "event": event_id}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Embedded mode: the in-memory layer's queues belong to the server's event loop and
            # are not thread-safe; a send from the relay's thread would not wake the consumer
            # (measured: never delivered). Hand the send to that loop instead.
            loop = next((loop for loop in list(_consumer_loops) if loop.is_running()), None)
            if loop is not None:
                asyncio.run_coroutine_threadsafe(layer.group_send(group_name(event_id), message), loop)
            return
        async_to_sync(layer.group_send)(group_name(event_id), message)
    except Exception:
        logger.warning("could not notify the stats group of event %s", event_id, exc_info=True)


def stats_changed_on_commit(*, event_id: int) -> None:
    """Ping once after the current transaction commits (at once outside one), however often it is called in it.

    Inside `one_ping_per_event` the ping is held until that block ends. A change rolled back
    pings nothing (at worst one spare ping with the thread's next commit, which costs a snapshot).
    """
    due = getattr(_local, "due", None)
    if due is None:
        due = _local.due = set()
    due.add(event_id)
    # A callback per call, not per event: one registered in a savepoint that rolls back is
    # discarded with it, and a later call in the surviving transaction must still be sent.
    transaction.on_commit(_send_due)


def _send_due() -> None:
    due = getattr(_local, "due", None) or set()
    event_ids = sorted(due)
    due.clear()
    held = getattr(_local, "held", None)
    for event_id in event_ids:
        if held is not None:
            held.add(event_id)
        else:
            stats_changed(event_id=event_id)


@contextmanager
def one_ping_per_event() -> Iterator[None]:
    """Hold the pings of the changes committed in the block; when it ends, ping each changed event once.

    Nested blocks leave the sending to the outermost. Pings of changes committed after the block
    (it ran inside a caller's transaction) are sent after that commit, one per event.
    """
    if getattr(_local, "held", None) is not None:
        yield
        return
    held = _local.held = set()
    try:
        yield
    finally:
        _local.held = None
        for event_id in sorted(held):
            stats_changed(event_id=event_id)
