"""Gate-device API keys: who may call the gate API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gates import services
from gates.authentication import forget_cached_devices
from gates.models import Device
from tests.factories import DeviceFactory, EventFactory, UserFactory
from tests.waiting import wait_until

SYNC = "/api/v1/events/{slug}/gate-sync"
pytestmark = pytest.mark.django_db


def test_authorization_api_key_header_is_accepted(client, device):
    response = client.get(SYNC.format(slug=device.event.slug), headers={"Authorization": f"Api-Key {device.plain_key}"})
    assert response.status_code == 200, response.content


def test_x_api_key_header_is_accepted(client, device):
    response = client.get(SYNC.format(slug=device.event.slug), headers={"X-Api-Key": device.plain_key})
    assert response.status_code == 200


def test_no_key_is_401_with_an_api_key_challenge(client, device):
    response = client.get(SYNC.format(slug=device.event.slug))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("key", ["ghd_wrong", "", "x" * 500, "ключ"])
def test_unknown_or_malformed_key_is_401(client, device, key):
    response = client.get(SYNC.format(slug=device.event.slug), headers={"Authorization": f"Api-Key {key}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("authentication_failed", "not_authenticated")


def test_revoked_key_is_refused(client, device):
    services.revoke_device(device=device)
    response = client.get(SYNC.format(slug=device.event.slug), headers={"X-Api-Key": device.plain_key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert "revoked" in response.json()["error"]["message"]


def test_key_revoked_while_in_use_is_refused_once_the_cache_window_has_passed(client, device, settings):
    settings.GATE_DEVICE_CACHE_SECONDS = 0.2
    url, headers = SYNC.format(slug=device.event.slug), {"X-Api-Key": device.plain_key}
    assert client.get(url, headers=headers).status_code == 200
    services.revoke_device(device=device)
    # Refused within the cache window (0.2 s), not forever accepted: a deadline well past it.
    wait_until(lambda: client.get(url, headers=headers).status_code == 401, timeout=5, message="the revoked key to be refused")


def test_key_of_one_event_cannot_touch_another_event(client, device):
    other = EventFactory(slug="other-event")
    response = client.get(SYNC.format(slug=other.slug), headers={"X-Api-Key": device.plain_key})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert client.get(f"/api/v1/events/{other.slug}/stats", headers={"X-Api-Key": device.plain_key}).status_code == 403


def test_a_logged_in_superuser_without_a_device_key_cannot_call_gate_endpoints(client, device):
    client.force_login(UserFactory(username="root", is_superuser=True))
    response = client.get(SYNC.format(slug=device.event.slug))
    assert response.status_code == 401
    assert client.post("/api/v1/tokens/verify", {"token": "x"}, content_type="application/json").status_code == 401


def test_last_seen_is_recorded_and_written_at_most_once_a_minute(client, device):
    headers = {"X-Api-Key": device.plain_key}
    client.get(SYNC.format(slug=device.event.slug), headers=headers)
    first_seen = Device.objects.get(pk=device.pk).last_seen_at
    assert first_seen is not None
    client.get(SYNC.format(slug=device.event.slug), headers=headers)
    assert Device.objects.get(pk=device.pk).last_seen_at == first_seen
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(minutes=2))
    forget_cached_devices()  # as another server process would see it
    client.get(SYNC.format(slug=device.event.slug), headers=headers)
    assert Device.objects.get(pk=device.pk).last_seen_at > first_seen


@pytest.fixture
def device(db):
    return DeviceFactory()


HOW_TO_SEND = 'Send the device key as "Authorization: Api-Key <key>" or "X-Api-Key: <key>".'


@pytest.mark.parametrize("header", ["{key}", "Bearer {key}", "bearer {key}", "Token {key}", "{key} "])
@pytest.mark.parametrize("path", [SYNC, "/api/v1/attendance/record", "/api/v1/events/{slug}/stats"])
def test_a_device_key_without_its_scheme_is_401_saying_how_to_send_it(client, device, header, path):
    url = path.format(slug=device.event.slug)
    authorization = header.format(key=device.plain_key)
    if path.startswith("/api/v1/attendance"):
        response = client.post(url, {}, content_type="application/json", headers={"Authorization": authorization})
    else:
        response = client.get(url, headers={"Authorization": authorization})
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "authentication_scheme"
    assert HOW_TO_SEND in error["message"]
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_bare_key_is_explained_not_accepted_even_when_it_is_valid(client, device):
    response = client.get(SYNC.format(slug=device.event.slug), headers={"Authorization": device.plain_key})
    assert response.status_code == 401
    assert "participants" not in response.json()


@pytest.mark.parametrize("header", ["Api-Key ghd_wrong", "Api-Key wrong"])
def test_a_wrong_key_with_the_right_scheme_is_still_authentication_failed(client, device, header):
    response = client.get(SYNC.format(slug=device.event.slug), headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == "Invalid API key."


def test_x_api_key_wins_over_another_schemes_authorization(client, device):
    # e.g. a staging site behind HTTP basic auth: the proxy's Authorization travels along.
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "X-Api-Key": device.plain_key}
    assert client.get(SYNC.format(slug=device.event.slug), headers=headers).status_code == 200


def test_without_any_key_the_gate_api_says_how_to_send_one(client, device):
    response = client.get(SYNC.format(slug=device.event.slug))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
    assert HOW_TO_SEND in response.json()["error"]["message"]
