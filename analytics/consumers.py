"""The live statistics websocket: a full snapshot on connect, then coalesced snapshots while scans arrive."""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from analytics import broadcast, selectors

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403


class EventStatsConsumer(AsyncJsonWebsocketConsumer):
    """Members of the event's organization only; anyone else is refused before the handshake completes.

    Pings from the group only mark the snapshot stale; one task per connection sends a fresh
    whole snapshot at most every STATS_PUSH_INTERVAL seconds, so a burst of scans becomes a few
    messages, and a slow or missed ping is repaired by the next one or the periodic refresh.
    """

    async def connect(self):
        self.event = await database_sync_to_async(selectors.member_event)(
            user=self.scope.get("user"), slug=self.scope["url_route"]["kwargs"]["slug"]
        )
        if self.event is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        broadcast.register_consumer_loop(asyncio.get_running_loop())
        self.group = broadcast.group_name(self.event.pk)
        self.interval = settings.STATS_PUSH_INTERVAL_SECONDS
        self.stale = False
        self.last_sent = 0.0
        self.flusher: asyncio.Task | None = None
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_snapshot()
        self.refresher = asyncio.create_task(self.refresh_periodically())

    async def disconnect(self, code):
        if getattr(self, "event", None) is None:
            return
        for task in (self.flusher, getattr(self, "refresher", None)):
            if task is not None:
                task.cancel()
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Bad input from a client gets an error frame, not a crashed consumer.
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            content = None
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        # The stream is one-way; a client may ask for a fresh snapshot, nothing else.
        if isinstance(content, dict) and content.get("type") == "stats.refresh":
            self.mark_stale()
        else:
            await self.send_json({"type": "error", "error": {"code": "invalid", "message": "Only stats.refresh is accepted."}})

    async def stats_changed(self, message):
        self.mark_stale()

    def mark_stale(self) -> None:
        self.stale = True
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self.flush())

    async def flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self.stale:
            wait = self.last_sent + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.stale = False
            try:
                await self.send_snapshot()
            except Exception:  # a database hiccup must not end the stream; the next ping retries
                logger.warning("stats snapshot for %s failed", self.event.slug, exc_info=True)
                self.last_sent = loop.time()

    async def refresh_periodically(self) -> None:
        # Gate load is a sliding window: it decays with no scans arriving. Re-joining the group
        # keeps this channel's membership fresh (groups expire members after group_expiry).
        while True:
            await asyncio.sleep(settings.STATS_REFRESH_SECONDS)
            await self.channel_layer.group_add(self.group, self.channel_name)
            self.mark_stale()

    async def send_snapshot(self) -> None:
        snapshot = await database_sync_to_async(selectors.stats_snapshot)(event=self.event)
        self.last_sent = asyncio.get_running_loop().time()
        await self.send_json({"type": "stats.updated", "data": snapshot})
