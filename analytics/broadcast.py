"""Tells the event's websocket group that its statistics changed (after commit, never failing the caller).

The message is a tiny "something changed" ping, not the numbers: each consumer coalesces pings
and sends its client a whole fresh snapshot at most every 250 ms, so a ping dropped by
channels-redis past its capacity costs nothing the next ping does not repair.
"""

import asyncio
import logging
import threading
import weakref

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

_pending = threading.local()


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
    """Ping once after the current transaction commits, however many scans it applied."""
    pending = getattr(_pending, "event_ids", None)
    if pending is None:
        pending = _pending.event_ids = set()
    if event_id in pending:
        return
    pending.add(event_id)

    def send() -> None:
        pending.discard(event_id)
        stats_changed(event_id=event_id)

    transaction.on_commit(send)
