"""POST /api/v1/attendance/record: every rule of the gate API contract, through HTTP."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import Scan
from integrations.outbox import OutboxEvent
from participants.models import Participant
from participants.tokens import format_token
from tests.attendance.scan_bodies import scan_body
from tests.factories import DeviceFactory, GateFactory, ParticipantFactory

RECORD = "/api/v1/attendance/record"
pytestmark = pytest.mark.django_db


def error_code(response):
    return response.json()["error"]["code"]


def test_first_entry_is_accepted_and_stored_with_its_answer(api, participant, gate):
    body = scan_body(participant, gate)
    response = api.post(RECORD, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["scanId"] == body["scanId"]
    assert answer["result"] == "accepted"
    assert answer["direction"] == "entry"
    assert answer["gateId"] == "main-entrance"
    assert answer["participant"] == {"id": str(participant.public_id), "name": "Kim Minsu", "status": "registered"}
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert (scan.result, scan.participant_id, scan.gate_id, scan.method) == ("accepted", participant.pk, gate.pk, "qr_scan")
    assert scan.response_status == 201
    assert scan.response_body == answer


def test_accepted_scan_publishes_attendance_recorded_without_personal_data(api, participant, gate):
    body = scan_body(participant, gate, method="ble_auto")
    api.post(RECORD, body)
    outbox = OutboxEvent.objects.get(topic="attendance.recorded")
    assert outbox.event_id == participant.event_id
    payload = outbox.payload
    assert payload["scanId"] == body["scanId"]
    assert payload["participantId"] == str(participant.public_id)
    assert (payload["gateId"], payload["direction"], payload["method"], payload["result"]) == (
        "main-entrance",
        "entry",
        "ble_auto",
        "accepted",
    )
    assert "scannedAt" in payload
    flat = str(payload)
    for personal in (participant.name, participant.email, participant.phone, participant.token):
        assert personal not in flat


def test_refused_scans_publish_nothing(api, participant, gate):
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.BLOCKED)
    api.post(RECORD, scan_body(participant, gate))
    assert not OutboxEvent.objects.exists()


def test_printed_token_in_any_case_and_with_dashes_finds_the_participant(api, participant, gate):
    body = scan_body(participant, gate)
    del body["participantId"]
    body["token"] = format_token(participant.token, "TCF26").lower()
    response = api.post(RECORD, body)
    assert response.status_code == 201, response.content
    assert response.json()["participant"]["id"] == str(participant.public_id)


@pytest.mark.parametrize("token", ["ABCDEFGHJKMNPQRSTVWXYZ01234567", "TRUNCATED-123", "' OR 1=1 --"])
def test_unknown_forged_or_truncated_token_is_participant_not_found_and_audited(api, gate, token, participant):
    body = scan_body(participant, gate)
    del body["participantId"]
    body["token"] = token
    response = api.post(RECORD, body)
    assert response.status_code == 404
    assert error_code(response) == "participant_not_found"
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert (scan.result, scan.reason, scan.participant_id) == ("rejected", "participant_not_found", None)


def test_unknown_participant_id_is_404_and_audited(api, gate, participant):
    body = scan_body(participant, gate, participantId=str(uuid.uuid4()))
    response = api.post(RECORD, body)
    assert response.status_code == 404
    assert error_code(response) == "participant_not_found"
    assert Scan.objects.get(scan_id=body["scanId"]).reason == "participant_not_found"


def test_participant_of_another_event_is_not_found(api, gate):
    stranger = ParticipantFactory()
    response = api.post(RECORD, scan_body(stranger, gate))
    assert response.status_code == 404
    assert error_code(response) == "participant_not_found"


def test_unknown_gate_is_404_and_audited(api, participant):
    body = scan_body(participant, GateFactory.build(code="nowhere"))
    response = api.post(RECORD, body)
    assert response.status_code == 404
    assert error_code(response) == "gate_not_found"
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert (scan.result, scan.reason, scan.gate_id, scan.participant_id) == ("rejected", "gate_not_found", None, participant.pk)


def test_gate_of_another_event_is_not_found(api, participant):
    foreign = GateFactory(code="foreign-gate")
    response = api.post(RECORD, scan_body(participant, foreign))
    assert response.status_code == 404
    assert error_code(response) == "gate_not_found"


def test_inactive_gate_is_refused(api, participant, gate):
    gate.is_active = False
    gate.save()
    response = api.post(RECORD, scan_body(participant, gate))
    assert response.status_code == 400
    assert error_code(response) == "gate_inactive"


def test_device_bound_to_a_gate_cannot_scan_at_another(client, event, participant, gate, side_gate):
    bound = DeviceFactory(event=event, gate=gate)
    response = client.post(
        RECORD,
        scan_body(participant, side_gate),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {bound.plain_key}"},
    )
    assert response.status_code == 403
    assert error_code(response) == "gate_not_allowed"


@pytest.mark.parametrize("status", [Participant.Status.CANCELLED, Participant.Status.BLOCKED])
def test_cancelled_or_blocked_participant_is_inactive(api, participant, gate, status):
    Participant.objects.filter(pk=participant.pk).update(status=status)
    body = scan_body(participant, gate)
    response = api.post(RECORD, body)
    assert response.status_code == 400
    assert error_code(response) == "participant_inactive"
    assert Scan.objects.get(scan_id=body["scanId"]).reason == "participant_inactive"


def test_active_participant_is_in_good_standing(api, participant, gate):
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.ACTIVE)
    assert api.post(RECORD, scan_body(participant, gate)).status_code == 201


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (lambda e: e.starts_at - timedelta(seconds=e.checkin_grace_seconds + 1), 400),
        (lambda e: e.starts_at - timedelta(seconds=e.checkin_grace_seconds - 60), 201),
        (lambda e: e.ends_at + timedelta(seconds=e.checkin_grace_seconds - 60), 201),
        (lambda e: e.ends_at + timedelta(seconds=e.checkin_grace_seconds + 1), 400),
    ],
    ids=["before-grace", "inside-early-grace", "inside-late-grace", "after-grace"],
)
def test_timestamp_must_lie_in_the_event_window_with_grace(api, participant, gate, event, offset, expected):
    response = api.post(RECORD, scan_body(participant, gate, at=offset(event)))
    assert response.status_code == expected, response.content
    if expected == 400:
        assert error_code(response) == "outside_event_window"


def test_offline_scan_from_earlier_in_the_day_is_accepted(api, participant, gate, event):
    response = api.post(RECORD, scan_body(participant, gate, at=event.starts_at + timedelta(minutes=5)))
    assert response.status_code == 201


def test_naive_timestamp_is_invalid_and_nothing_is_stored(api, participant, gate):
    body = scan_body(participant, gate, timestamp="2026-05-01T09:00:00")
    response = api.post(RECORD, body)
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert "timestamp" in response.json()["error"]["details"]
    assert not Scan.objects.exists()


def test_same_gate_within_duplicate_window_is_duplicate_scan(api, participant, gate):
    now = timezone.now()
    assert api.post(RECORD, scan_body(participant, gate, at=now)).status_code == 201
    body = scan_body(participant, gate, at=now + timedelta(seconds=30))
    response = api.post(RECORD, body)
    assert response.status_code == 409
    assert error_code(response) == "duplicate_scan"
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert (scan.result, scan.reason) == ("duplicate", "duplicate_scan")


def test_second_entry_without_exit_is_already_checked_in(api, participant, gate, side_gate):
    now = timezone.now()
    assert api.post(RECORD, scan_body(participant, gate, at=now)).status_code == 201
    response = api.post(RECORD, scan_body(participant, side_gate, at=now + timedelta(minutes=1)))
    assert response.status_code == 409
    assert error_code(response) == "already_checked_in"


def test_entry_after_an_exit_is_accepted(api, participant, gate, side_gate, exit_gate):
    now = timezone.now() - timedelta(minutes=30)
    assert api.post(RECORD, scan_body(participant, gate, at=now)).status_code == 201
    exit_response = api.post(RECORD, scan_body(participant, exit_gate, at=now + timedelta(minutes=10)))
    assert exit_response.status_code == 201
    assert exit_response.json()["direction"] == "exit"
    assert api.post(RECORD, scan_body(participant, side_gate, at=now + timedelta(minutes=20))).status_code == 201


def test_multiple_checkins_allowed_by_the_event_accept_a_second_entry(api, participant, gate, side_gate, event):
    event.allow_multiple_checkins = True
    event.save()
    now = timezone.now()
    assert api.post(RECORD, scan_body(participant, gate, at=now)).status_code == 201
    assert api.post(RECORD, scan_body(participant, side_gate, at=now + timedelta(minutes=1))).status_code == 201


def test_both_way_gate_toggles_inside_and_outside(api, participant, event):
    lounge = GateFactory(event=event, code="vip-lounge", direction="both")
    now = timezone.now() - timedelta(hours=1)
    first = api.post(RECORD, scan_body(participant, lounge, at=now)).json()
    second = api.post(RECORD, scan_body(participant, lounge, at=now + timedelta(minutes=20))).json()
    assert (first["direction"], second["direction"]) == ("entry", "exit")


def test_entry_at_an_exit_only_gate_is_refused(api, participant, exit_gate):
    response = api.post(RECORD, scan_body(participant, exit_gate, direction="entry"))
    assert response.status_code == 400
    assert error_code(response) == "direction_not_allowed"


def test_replayed_scan_id_answers_exactly_the_same_and_stores_nothing_new(api, participant, gate):
    body = scan_body(participant, gate)
    first = api.post(RECORD, body)
    again = api.post(RECORD, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Scan.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


def test_replayed_refusal_answers_the_same_refusal(api, participant, gate):
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.BLOCKED)
    body = scan_body(participant, gate)
    first = api.post(RECORD, body)
    # Even after the participant is unblocked, the stored verdict is what a replay gets.
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.ACTIVE)
    again = api.post(RECORD, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (400, first.json())
    assert Scan.objects.count() == 1


def test_replay_of_a_scan_of_an_unknown_participant_answers_the_same(api, participant, gate):
    body = scan_body(participant, gate, participantId=str(uuid.uuid4()))
    first = api.post(RECORD, body)
    again = api.post(RECORD, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Scan.objects.count() == 1


def test_same_scan_id_with_a_different_body_is_an_idempotency_conflict(api, participant, gate, side_gate):
    body = scan_body(participant, gate)
    api.post(RECORD, body)
    response = api.post(RECORD, {**body, "gateId": side_gate.code})
    assert response.status_code == 409
    assert error_code(response) == "idempotency_conflict"
    assert Scan.objects.count() == 1


def test_scan_without_scan_id_gets_one(api, participant, gate):
    body = scan_body(participant, gate)
    del body["scanId"]
    response = api.post(RECORD, body)
    assert response.status_code == 201
    assert Scan.objects.filter(scan_id=response.json()["scanId"]).exists()


def test_location_and_device_info_are_stored(api, participant, gate):
    body = scan_body(participant, gate, location={"lat": 37.51, "lng": 127.06}, deviceInfo={"model": "Galaxy Tab S9"})
    api.post(RECORD, body)
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert scan.location == {"lat": 37.51, "lng": 127.06}
    assert scan.device_info == {"model": "Galaxy Tab S9"}


def test_relaxed_commit_mode_still_records_scan_and_outbox_row_together(api, participant, gate, settings):
    settings.CHECKIN_SYNCHRONOUS_COMMIT = False
    body = scan_body(participant, gate)
    assert api.post(RECORD, body).status_code == 201
    assert Scan.objects.filter(scan_id=body["scanId"], result="accepted").exists()
    assert OutboxEvent.objects.filter(payload__scanId=body["scanId"]).count() == 1


def test_both_request_paths_answer_a_verdict_alike(api, participant, gate, side_gate):
    """RecordScanView answers the common request without DRF's cycle, anything else through it
    (here: a charset other than UTF-8); both answer with the same verdict_response()."""
    assert api.post(RECORD, scan_body(participant, gate)).status_code == 201
    body = scan_body(participant, side_gate)
    through_drf = api.post_raw(RECORD, json.dumps(body).encode("latin-1"), content_type="application/json; charset=latin-1")
    fast = api.post(RECORD, body)  # the same scanId again: the stored verdict
    assert (through_drf.status_code, error_code(through_drf)) == (409, "already_checked_in")
    assert (fast.status_code, fast.json(), fast["Content-Type"]) == (409, through_drf.json(), through_drf["Content-Type"])
