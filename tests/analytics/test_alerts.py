"""Alerts: gate overload and low attendance, deduplicated with a cooldown, resolvable by staff, published."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from analytics import selectors, services
from analytics.models import Alert
from events.models import Membership
from integrations.outbox import OutboxEvent
from tests.analytics.scans import record, relay
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _relay_by_hand():
    with override_settings(OUTBOX_KICK=False, ALERT_COOLDOWN_SECONDS=600):
        yield


def busy_gate(scans: int, capacity: int = 1):
    event = EventFactory()
    gate = GateFactory(event=event, capacity_per_minute=capacity, name="North <b>gate</b>")
    for person in ParticipantFactory.create_batch(scans, event=event):
        record(event=event, gate=gate, participant=person)
    return event, gate


def test_a_gate_over_its_threshold_raises_one_alert_and_publishes_it():
    event, gate = busy_gate(scans=6)  # 6 scans / (1 per minute × 5) = 1.2 > 0.8
    relay()
    alert = Alert.objects.get(event=event)
    assert (alert.kind, alert.gate, alert.value) == ("gate_overload", gate, 1.2)
    published = OutboxEvent.objects.filter(topic="alert.raised", event_id=event.pk)
    assert published.count() == 1
    assert published.get().payload["gateId"] == gate.code


def test_the_overload_alert_reads_the_same_load_as_the_snapshot_and_the_realtime_api():
    event, gate = busy_gate(scans=9, capacity=2)  # 9 / (2 per minute × 5) = 0.9 > 0.8
    # Neither loads the gate: a scan refused as being at another gate, one from before the window.
    record(event=event, gate=gate, result="rejected", reason="gate_not_allowed", publish_it=False)
    record(event=event, gate=gate, scanned_at=timezone.now() - timedelta(minutes=6))
    relay()

    alert = Alert.objects.get(event=event, kind="gate_overload")
    (row,) = selectors.stats_snapshot(event=event)["gates"]
    (compact,) = selectors.realtime_summary(event=event)["gates"]
    assert round(alert.value, 4) == row["load"] == compact["load"] == 0.9
    assert alert.message.startswith(f"{gate.name}: {row['recentScans']} scans in 5 min")


def test_a_gate_under_its_threshold_raises_nothing():
    event, _ = busy_gate(scans=4)  # 0.8 is not above 0.8
    relay()
    assert not Alert.objects.filter(event=event).exists()


def test_an_open_alert_is_refreshed_not_repeated_and_the_cooldown_holds_after_resolving():
    event, gate = busy_gate(scans=6)
    relay()
    record(event=event, gate=gate, participant=ParticipantFactory(event=event))
    relay()
    services.check_alerts(event=event)
    assert Alert.objects.filter(event=event).count() == 1
    alert = Alert.objects.get(event=event)
    assert alert.value == 1.4

    staff = MembershipFactory(organization=event.organization, role=Membership.Role.STAFF).user
    services.resolve_alert(alert_id=alert.pk, event=event, user=staff)
    services.check_alerts(event=event)
    assert Alert.objects.filter(event=event).count() == 1, "within the cooldown nothing new is raised"

    services.check_alerts(event=event, now=timezone.now() + timedelta(seconds=30))
    with override_settings(ALERT_COOLDOWN_SECONDS=0):
        # Past the cooldown but no longer busy either (the window slid): still nothing.
        services.check_alerts(event=event, now=timezone.now() + timedelta(minutes=11))
        assert Alert.objects.filter(event=event).count() == 1
        services.check_alerts(event=event)
    assert Alert.objects.filter(event=event).count() == 2


def test_low_attendance_fires_only_after_half_the_event():
    start = timezone.now() - timedelta(hours=1)
    event = EventFactory(starts_at=start, ends_at=start + timedelta(hours=8))
    people = ParticipantFactory.create_batch(10, event=event)
    record(event=event, participant=people[0])
    relay()
    assert services.check_alerts(event=event) == [], "10% an hour in is not low yet"
    (alert,) = services.check_alerts(event=event, now=start + timedelta(hours=5))
    assert alert.kind == "low_attendance"
    assert alert.value == pytest.approx(0.1)
    assert "1 of 10" in alert.message


def test_staff_resolve_an_alert_from_the_dashboard_with_csrf():
    event, _ = busy_gate(scans=6)
    relay()
    alert = Alert.objects.get(event=event)
    staff = MembershipFactory(organization=event.organization, role=Membership.Role.STAFF).user
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = f"/dashboard/events/{event.slug}/alerts/{alert.pk}/resolve/"

    assert client.post(url).status_code == 403, "no CSRF token, no change"
    page = client.get(f"/dashboard/events/{event.slug}/")
    token = page.context["csrf_token"]
    response = client.post(url, {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by == staff and alert.resolved_at is not None


def test_viewers_cannot_resolve_alerts():
    event, _ = busy_gate(scans=6)
    relay()
    alert = Alert.objects.get(event=event)
    viewer = MembershipFactory(organization=event.organization, role=Membership.Role.VIEWER).user
    client = Client()
    client.force_login(viewer)
    client.post(f"/dashboard/events/{event.slug}/alerts/{alert.pk}/resolve/")
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_managers_resolve_alerts_with_the_admin_action():
    event, _ = busy_gate(scans=6)
    relay()
    manager = MembershipFactory(organization=event.organization, role=Membership.Role.MANAGER).user
    client = Client()
    client.force_login(manager)
    alert = Alert.objects.get(event=event)
    response = client.post("/admin/analytics/alert/", {"action": "resolve", "_selected_action": [alert.pk]}, follow=True)
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_by == manager
