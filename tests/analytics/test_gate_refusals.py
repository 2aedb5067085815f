"""A device bound to one gate scanning at another (`gate_not_allowed`) counts in the event's totals only."""

import uuid

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from analytics import selectors, services
from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def test_a_scan_refused_as_gate_not_allowed_inflates_no_gates_numbers(client):
    event = EventFactory()
    own_gate = GateFactory(event=event, code="north")
    other_gate = GateFactory(event=event, code="south", capacity_per_minute=1)
    device = DeviceFactory(event=event, gate=own_gate)
    body = {
        "participantId": str(ParticipantFactory(event=event).public_id),
        "gateId": other_gate.code,
        "timestamp": timezone.now().isoformat(),
        "method": "qr_scan",
        "scanId": str(uuid.uuid4()),
    }
    response = client.post(
        "/api/v1/attendance/record",
        body,
        content_type="application/json",
        headers={"Authorization": f"Api-Key {device.plain_key}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "gate_not_allowed"

    with override_settings(ANALYTICS_SWEEP_GRACE_SECONDS=0):
        services.apply_uncounted_scans(event=event)

    def numbers() -> tuple:
        snapshot = selectors.stats_snapshot(event=event)
        gates = {g["id"]: (g["scansProcessed"], g["scans"]["rejected"], g["recentScans"]) for g in snapshot["gates"]}
        return snapshot["overall"]["scans"]["rejected"], gates

    expected = (1, {"north": (0, 0, 0), "south": (0, 0, 0)})
    assert numbers() == expected
    # Nor does it load the other gate into an overload alert (1 scan in 5 min at 1/min would not, 5 would).
    assert selectors.gate_loads(event=event, gates=[other_gate], now=timezone.now())[other_gate.pk].recent_scans == 0
    call_command("rebuild_stats", "--event", event.slug)
    assert numbers() == expected
