"""The stats websocket: members only (refused before accept), a snapshot on connect, coalesced updates."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from analytics import broadcast, selectors
from config.asgi import application
from events.models import Membership
from tests.analytics.scans import record
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def session_headers(user) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


def communicator(event, headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/events/{event.slug}/stats/", headers=headers)


def member_of(event, role=Membership.Role.VIEWER):
    return MembershipFactory(organization=event.organization, role=role).user


def without_clock(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "generatedAt"}


@pytest.mark.parametrize("who", ["anonymous", "member of another organization"])
def test_outsiders_are_refused_before_the_handshake(who):
    event = EventFactory()
    user = None if who == "anonymous" else MembershipFactory(organization=EventFactory().organization).user

    headers = session_headers(user)

    async def scenario():
        ws = communicator(event, headers)
        connected, code = await ws.connect()
        await ws.disconnect()
        return connected, code

    connected, code = asyncio.run(scenario())
    assert connected is False
    assert code == 4403


def test_an_unknown_event_is_refused():
    user = UserFactory()

    headers = session_headers(user)

    async def scenario():
        ws = WebsocketCommunicator(application, "/ws/events/no-such-event/stats/", headers=headers)
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert asyncio.run(scenario()) is False


def test_a_member_gets_the_full_snapshot_on_connect_same_as_the_api():
    event = EventFactory()
    gate = GateFactory(event=event, code="main")
    record(event=event, gate=gate, participant=ParticipantFactory(event=event))
    from integrations.relay import relay_all

    relay_all()
    user = member_of(event)

    headers = session_headers(user)

    async def scenario():
        ws = communicator(event, headers)
        connected, _ = await ws.connect()
        assert connected
        message = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return message

    message = asyncio.run(scenario())
    assert message["type"] == "stats.updated"
    client = Client()
    client.force_login(user)
    api = client.get(f"/api/v1/events/{event.slug}/stats").json()
    assert without_clock(message["data"]) == without_clock(api)
    assert message["data"]["overall"]["checkedIn"] == 1
    assert message["data"]["gates"][0]["id"] == "main"


def test_a_storm_of_change_pings_becomes_one_or_two_snapshots():
    event = EventFactory()
    user = member_of(event)

    headers = session_headers(user)

    async def scenario():
        ws = communicator(event, headers)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)  # the snapshot on connect
        layer = get_channel_layer()
        for _ in range(100):
            await layer.group_send(broadcast.group_name(event.pk), {"type": "stats.changed", "event": event.pk})
        received = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            # receive_nothing polls without cancelling the app (a receive timeout would).
            if not await ws.receive_nothing(timeout=0.05):
                received.append(await ws.receive_json_from())
        await ws.disconnect()
        return received

    received = asyncio.run(scenario())
    assert 1 <= len(received) <= 2, f"100 pings must coalesce, got {len(received)} messages"


def test_scans_arriving_stream_coalesced_snapshots_at_most_every_250_ms_and_the_last_has_them_all():
    event = EventFactory()
    gate = GateFactory(event=event)
    people = ParticipantFactory.create_batch(40, event=event)
    user = member_of(event)

    headers = session_headers(user)

    async def scenario():
        ws = communicator(event, headers)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        stamps, messages = [], []

        async def listen():
            while True:
                messages.append(await ws.receive_json_from(timeout=10))
                stamps.append(time.monotonic())

        listener = asyncio.create_task(listen())
        started = time.monotonic()
        for person in people:  # one commit per scan: the kicked relay pings after each
            await database_sync_to_async(record)(event=event, gate=gate, participant=person)
            await asyncio.sleep(0.02)
        sent_for = time.monotonic() - started
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not messages or messages[-1]["data"]["overall"]["checkedIn"] < 40):
            await asyncio.sleep(0.05)
        listener.cancel()
        await ws.disconnect()
        return stamps, messages, sent_for

    stamps, messages, sent_for = asyncio.run(scenario())
    assert messages[-1]["data"]["overall"]["checkedIn"] == 40
    assert len(messages) < 40, "never one message per scan"
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= 0.2 for gap in gaps), gaps  # 250 ms apart, less scheduling jitter on the receiving side
    assert len(messages) <= sent_for / 0.25 + 4


def test_the_snapshot_selector_is_what_the_socket_sends():
    # The websocket and the API call one function; this pins the shape both carry.
    event = EventFactory()
    snapshot = selectors.stats_snapshot(event=event)
    assert set(snapshot) >= {"overall", "gates", "hourly", "methods", "alerts", "predictions", "event", "generatedAt"}


def test_garbage_from_the_client_gets_an_error_frame_and_the_stream_goes_on():
    event = EventFactory()
    headers = session_headers(member_of(event))

    async def scenario():
        ws = communicator(event, headers)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await ws.send_to(text_data="{not json")
        error = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "stats.refresh"})
        refreshed = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return error, refreshed

    error, refreshed = asyncio.run(scenario())
    assert error["error"]["code"] == "invalid"
    assert refreshed["type"] == "stats.updated"


def test_embedded_mode_in_memory_layer_delivers_updates_from_the_relay_thread():
    """One process, no Redis: the relay runs in a background thread and must still wake the socket."""
    from django.test import override_settings

    event = EventFactory()
    gate = GateFactory(event=event)
    person = ParticipantFactory(event=event)
    headers = session_headers(member_of(event))

    async def scenario():
        ws = communicator(event, headers)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        started = time.monotonic()
        await database_sync_to_async(record)(event=event, gate=gate, participant=person)
        message = await ws.receive_json_from(timeout=10)
        await ws.disconnect()
        return message, time.monotonic() - started

    with override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}):
        message, waited = asyncio.run(scenario())
    assert message["data"]["overall"]["checkedIn"] == 1
    assert waited < 2.0
