"""GET /api/v1/events/{slug}/stats and /analytics/realtime: members only, one snapshot shape."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from events.models import Membership
from tests.analytics.scans import record, relay
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _relay_by_hand():
    with override_settings(OUTBOX_KICK=False):
        yield


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_stats_are_refused_without_a_session_or_device_key():
    event = EventFactory()
    response = Client().get(f"/api/v1/events/{event.slug}/stats")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_stats_of_another_organizations_event_answer_404():
    event = EventFactory()
    outsider = MembershipFactory(organization=EventFactory().organization).user
    response = logged_in(outsider).get(f"/api/v1/events/{event.slug}/stats")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_stats_carry_overall_gate_hour_and_method_numbers():
    event = EventFactory(timezone="Asia/Seoul")
    gate = GateFactory(event=event, code="main-entrance", name="Main", capacity_per_minute=2)
    people = ParticipantFactory.create_batch(4, event=event)
    now = timezone.now()
    record(event=event, gate=gate, participant=people[0], scanned_at=now - timedelta(minutes=1), method="ble_auto")
    record(event=event, gate=gate, participant=people[1], scanned_at=now - timedelta(minutes=2))
    record(event=event, gate=gate, participant=people[1], scanned_at=now - timedelta(minutes=1), direction="exit")
    record(event=event, gate=gate, participant=people[2], result="duplicate", reason="duplicate_scan", scanned_at=now)
    relay()
    viewer = MembershipFactory(organization=event.organization, role=Membership.Role.VIEWER).user

    body = logged_in(viewer).get(f"/api/v1/events/{event.slug}/stats").json()

    assert body["overall"] | {"lastScanAt": None} == {
        "registered": 4,
        "checkedIn": 2,
        "insideNow": 1,
        "attendanceRate": 0.5,
        "entries": 2,
        "exits": 1,
        "scans": {"total": 4, "accepted": 3, "duplicate": 1, "rejected": 0},
        "lastScanAt": None,
    }
    assert body["methods"] == {"qr_scan": 2, "ble_auto": 1, "manual": 0}
    (gate_row,) = body["gates"]
    assert gate_row["id"] == "main-entrance"
    assert gate_row["scansProcessed"] == 4
    assert gate_row["recentScans"] == 4
    assert gate_row["load"] == 0.4  # 4 scans / (2 per minute × 5 minutes)
    assert gate_row["estimatedWaitSeconds"] > 0
    local_hour = (now - timedelta(minutes=1)).astimezone(event.tzinfo).strftime("%H:00")
    assert local_hour in [row["label"] for row in body["hourly"]]
    assert sum(row["count"] for row in body["hourly"]) == 3


def test_realtime_answers_the_compact_shape_from_the_same_numbers():
    event = EventFactory()
    gate = GateFactory(event=event, code="east")
    record(event=event, gate=gate, participant=ParticipantFactory(event=event))
    ParticipantFactory(event=event)
    relay()
    member = MembershipFactory(organization=event.organization).user

    body = logged_in(member).get(f"/api/v1/events/{event.slug}/analytics/realtime").json()

    assert body["participants"] == {"total": 2, "checkedIn": 1}
    assert body["attendance"] == {"current": 1, "rate": 0.5}
    assert body["gates"][0]["id"] == "east"
    assert body["gates"][0]["status"] == "normal"
    assert body["gates"][0]["throughput"] == 0.2


def test_predictions_project_recent_arrivals_and_name_the_peak_hour():
    start = timezone.now() - timedelta(hours=2)
    event = EventFactory(starts_at=start, ends_at=start + timedelta(hours=4))
    gate = GateFactory(event=event)
    people = ParticipantFactory.create_batch(20, event=event)
    for person in people[:3]:
        record(event=event, gate=gate, participant=person, scanned_at=timezone.now() - timedelta(minutes=90))
    for person in people[3:5]:
        record(event=event, gate=gate, participant=person, scanned_at=timezone.now() - timedelta(minutes=10))
    relay()
    member = MembershipFactory(organization=event.organization).user

    predictions = logged_in(member).get(f"/api/v1/events/{event.slug}/stats").json()["predictions"]

    # 5 in so far + 2 arrivals in the last hour × 2 h left = 9
    assert predictions["expectedFinalAttendance"] == 9
    assert "2 first arrivals in the last hour" in predictions["explanation"]["expectedFinalAttendance"]
    assert predictions["peakHour"]["entries"] >= 2
