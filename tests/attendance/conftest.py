"""Fixtures for the gate API: an event happening now, its gates, a device key and a participant."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gates.authentication import forget_cached_devices
from gates.models import Gate
from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory


@pytest.fixture
def event(db):
    now = timezone.now()
    return EventFactory(slug="tech-conference-2026", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=7))


@pytest.fixture
def gate(event):
    return GateFactory(event=event, code="main-entrance", direction=Gate.Direction.ENTRY)


@pytest.fixture
def side_gate(event):
    return GateFactory(event=event, code="east-entrance", direction=Gate.Direction.ENTRY)


@pytest.fixture
def exit_gate(event):
    return GateFactory(event=event, code="main-exit", direction=Gate.Direction.EXIT)


@pytest.fixture
def device(event):
    return DeviceFactory(event=event)


@pytest.fixture
def participant(event):
    return ParticipantFactory(event=event, name="Kim Minsu", email="minsu@example.com")


@pytest.fixture
def api(client, device):
    """POST/GET as the gate device, JSON in and out."""

    class DeviceClient:
        headers = {"Authorization": f"Api-Key {device.plain_key}"}

        def post(self, path, body, **headers):
            return client.post(path, body, content_type="application/json", headers={**self.headers, **headers})

        def post_raw(self, path, data: bytes, content_type="application/json"):
            return client.generic("POST", path, data, content_type=content_type, headers=self.headers)

        def get(self, path, **params):
            return client.get(path, params, headers=self.headers)

    return DeviceClient()


@pytest.fixture(autouse=True)
def _fresh_device_cache():
    """Each test starts with no device remembered by gates.authentication."""
    forget_cached_devices()
    yield
    forget_cached_devices()
