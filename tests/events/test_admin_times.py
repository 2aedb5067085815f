"""Times in the event admin read and are typed in the event's own zone, with the zone named."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from events.models import Event
from tests.factories import (
    AlertFactory,
    DeviceFactory,
    EventFactory,
    EventStatusChangeFactory,
    OrganizationFactory,
    ScanFactory,
    UserFactory,
    WebhookDeliveryFactory,
)

pytestmark = pytest.mark.django_db

SEOUL_NINE_AM_IN_UTC = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


def _event_form(organization, *, zone: str, starts: str, ends: str, slug: str = "seoul-summit") -> dict:
    """What the event form posts: every visible field, times split into date and time inputs."""
    return {
        "organization": organization.pk,
        "name": "Seoul Summit",
        "slug": slug,
        "timezone": zone,
        "starts_at_0": starts.split()[0],
        "starts_at_1": starts.split()[1],
        "ends_at_0": ends.split()[0],
        "ends_at_1": ends.split()[1],
        "venue": "COEX",
        "language": "ko",
        "duplicate_window_seconds": 300,
        "checkin_grace_seconds": 3600,
        "offline_mode": "on",
        "token_prefix": "",
        "phone_region": "KR",
        "default_gate_capacity_per_minute": 30,
        "gate_overload_threshold": 0.8,
        "low_attendance_threshold": 0.3,
        # The inlines on the page (gates, devices, status history), all empty here.
        **{f"{prefix}-{key}": 0 for prefix in ("gates", "devices", "status_changes") for key in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }


def test_a_new_events_times_are_read_in_the_zone_chosen_for_it(superuser_client):
    organization = OrganizationFactory()
    form = _event_form(organization, zone="Asia/Seoul", starts="2026-05-01 09:00", ends="2026-05-01 18:00")
    response = superuser_client.post(reverse("admin:events_event_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(slug="seoul-summit")
    assert event.starts_at == SEOUL_NINE_AM_IN_UTC
    assert event.ends_at == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_a_new_event_in_another_zone_uses_that_zone_with_its_summer_time(superuser_client):
    organization = OrganizationFactory()
    form = _event_form(organization, zone="Europe/Berlin", starts="2026-07-01 09:00", ends="2026-07-01 18:00", slug="berlin")
    assert superuser_client.post(reverse("admin:events_event_add"), form).status_code == 302
    assert Event.objects.get(slug="berlin").starts_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_the_add_form_says_which_zone_the_times_are_in(superuser_client):
    page = superuser_client.get(reverse("admin:events_event_add")).content.decode()
    assert "In the event's time zone (the Timezone field above)." in page


def test_the_change_form_shows_and_names_the_events_own_zone(superuser_client):
    event = EventFactory(timezone="Asia/Seoul", starts_at=SEOUL_NINE_AM_IN_UTC)
    page = superuser_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'name="starts_at_1" value="09:00:00"' in page
    assert "In the event's time zone, Asia/Seoul. Saved: 2026-05-01 00:00 UTC." in page


def test_saving_the_change_form_keeps_nine_in_seoul_at_midnight_utc(superuser_client):
    event = EventFactory(timezone="Asia/Seoul", starts_at=datetime(2026, 4, 30, 22, 0, tzinfo=UTC))
    form = _event_form(event.organization, zone="Asia/Seoul", starts="2026-05-01 09:00", ends="2026-05-01 18:00", slug=event.slug)
    response = superuser_client.post(reverse("admin:events_event_change", args=[event.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    event.refresh_from_db()
    assert event.starts_at == SEOUL_NINE_AM_IN_UTC


def test_moving_an_event_to_another_zone_keeps_its_wall_clock_times(superuser_client):
    event = EventFactory(timezone="Asia/Seoul", starts_at=SEOUL_NINE_AM_IN_UTC)
    form = _event_form(
        event.organization, zone="Europe/London", starts="2026-05-01 09:00", ends="2026-05-01 18:00", slug=event.slug
    )
    assert superuser_client.post(reverse("admin:events_event_change", args=[event.pk]), form).status_code == 302
    event.refresh_from_db()
    assert event.starts_at == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)  # 09:00 BST


def test_the_event_list_shows_local_times_with_the_zone_and_utc_on_hover(superuser_client):
    EventFactory(timezone="Asia/Seoul", starts_at=SEOUL_NINE_AM_IN_UTC)
    page = superuser_client.get(reverse("admin:events_event_changelist")).content.decode()
    assert 'title="2026-05-01 00:00 UTC">2026-05-01 09:00 KST</time>' in page


def test_the_status_history_on_the_event_page_is_in_the_events_zone(superuser_client):
    event = EventFactory(timezone="Asia/Seoul")
    change = EventStatusChangeFactory(event=event)
    EventStatusChangeFactory._meta.model.objects.filter(pk=change.pk).update(changed_at=SEOUL_NINE_AM_IN_UTC)
    page = superuser_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert ">2026-05-01 09:00 KST</time>" in page


SEOUL_NINE_AM = 'title="2026-05-01 00:00 UTC">2026-05-01 09:00 KST</time>'


def test_the_scan_list_and_scan_page_read_in_the_events_zone(superuser_client):
    scan = ScanFactory(event=EventFactory(timezone="Asia/Seoul"), scanned_at=SEOUL_NINE_AM_IN_UTC)
    assert SEOUL_NINE_AM in superuser_client.get(reverse("admin:attendance_scan_changelist")).content.decode()
    assert SEOUL_NINE_AM in superuser_client.get(reverse("admin:attendance_scan_change", args=[scan.pk])).content.decode()


def test_the_device_list_and_the_event_pages_device_rows_read_in_the_events_zone(superuser_client):
    device = DeviceFactory(event=EventFactory(timezone="Asia/Seoul"), last_seen_at=SEOUL_NINE_AM_IN_UTC)
    assert SEOUL_NINE_AM in superuser_client.get(reverse("admin:gates_device_changelist")).content.decode()
    event_page = superuser_client.get(reverse("admin:events_event_change", args=[device.event_id])).content.decode()
    assert SEOUL_NINE_AM in event_page


def test_the_alert_list_reads_in_the_events_zone(superuser_client):
    AlertFactory(event=EventFactory(timezone="Asia/Seoul"), raised_at=SEOUL_NINE_AM_IN_UTC)
    assert SEOUL_NINE_AM in superuser_client.get(reverse("admin:analytics_alert_changelist")).content.decode()


def test_webhook_lists_name_utc_as_their_zone(superuser_client):
    delivery = WebhookDeliveryFactory(next_attempt_at=SEOUL_NINE_AM_IN_UTC)
    page = superuser_client.get(reverse("admin:integrations_webhookdelivery_changelist")).content.decode()
    assert "2026-05-01 00:00 UTC" in page
    assert delivery.webhook_id in page
