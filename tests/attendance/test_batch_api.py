"""POST /api/v1/attendance/batch: an offline device's backlog, each scan with its own verdict."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import Scan
from integrations.outbox import OutboxEvent
from participants.models import Participant
from participants.tokens import format_token
from tests.attendance.scan_bodies import scan_body
from tests.factories import ParticipantFactory

BATCH = "/api/v1/attendance/batch"
pytestmark = pytest.mark.django_db


def test_batch_sorts_verdicts_into_successful_duplicates_and_failed(api, event, participant, gate, side_gate):
    blocked = ParticipantFactory(event=event, status=Participant.Status.BLOCKED)
    now = timezone.now() - timedelta(minutes=30)
    first = scan_body(participant, gate, at=now)
    again_elsewhere = scan_body(participant, side_gate, at=now + timedelta(minutes=2))
    refused = scan_body(blocked, gate, at=now)
    response = api.post(BATCH, {"scans": [again_elsewhere, refused, first]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["scanId"] for s in body["successful"]] == [first["scanId"]]
    assert [(d["scanId"], d["error"]["code"]) for d in body["duplicates"]] == [(again_elsewhere["scanId"], "already_checked_in")]
    assert [(f["scanId"], f["error"]["code"]) for f in body["failed"]] == [(refused["scanId"], "participant_inactive")]
    assert Scan.objects.count() == 3
    assert OutboxEvent.objects.filter(topic="attendance.recorded").count() == 1


def test_batch_is_processed_in_device_time_order(api, participant, gate, exit_gate, side_gate):
    now = timezone.now() - timedelta(hours=1)
    entry = scan_body(participant, gate, at=now)
    leave = scan_body(participant, exit_gate, at=now + timedelta(minutes=10))
    back = scan_body(participant, side_gate, at=now + timedelta(minutes=20))
    body = api.post(BATCH, {"scans": [back, leave, entry]}).json()
    assert [s["scanId"] for s in body["successful"]] == [entry["scanId"], leave["scanId"], back["scanId"]]
    assert [s["direction"] for s in body["successful"]] == ["entry", "exit", "entry"]


def test_batch_applies_the_duplicate_window_within_the_batch(api, participant, gate):
    now = timezone.now()
    body = api.post(
        BATCH, {"scans": [scan_body(participant, gate, at=now), scan_body(participant, gate, at=now + timedelta(seconds=5))]}
    ).json()
    assert len(body["successful"]) == 1
    assert body["duplicates"][0]["error"]["code"] == "duplicate_scan"


def test_batch_sees_scans_recorded_online_before_it(api, participant, gate, side_gate):
    now = timezone.now()
    assert api.post("/api/v1/attendance/record", scan_body(participant, gate, at=now)).status_code == 201
    body = api.post(BATCH, {"scans": [scan_body(participant, side_gate, at=now + timedelta(minutes=3))]}).json()
    assert body["duplicates"][0]["error"]["code"] == "already_checked_in"


def test_replaying_a_batch_changes_nothing_and_answers_the_same(api, event, participant, gate):
    others = ParticipantFactory.create_batch(3, event=event)
    scans = [scan_body(p, gate) for p in [participant, *others]] + [scan_body(participant, gate, participantId=str(uuid.uuid4()))]
    first = api.post(BATCH, {"scans": scans}).json()
    counts = (Scan.objects.count(), OutboxEvent.objects.count())
    again = api.post(BATCH, {"scans": scans}).json()
    assert again == first
    assert (Scan.objects.count(), OutboxEvent.objects.count()) == counts == (5, 4)


def test_a_scan_id_reused_with_another_body_fails_alone(api, participant, gate, side_gate, event):
    body = scan_body(participant, gate)
    api.post(BATCH, {"scans": [body]})
    other = ParticipantFactory(event=event)
    response = api.post(BATCH, {"scans": [{**body, "gateId": side_gate.code}, scan_body(other, gate)]}).json()
    assert [f["error"]["code"] for f in response["failed"]] == ["idempotency_conflict"]
    assert len(response["successful"]) == 1


def test_an_invalid_scan_fails_alone_with_its_index(api, participant, gate):
    good = scan_body(participant, gate)
    naive = scan_body(participant, gate, timestamp="2026-05-01T09:00:00")
    without_id = scan_body(participant, gate)
    del without_id["scanId"]
    body = api.post(BATCH, {"scans": [naive, good, "not a scan", without_id]}).json()
    assert [s["scanId"] for s in body["successful"]] == [good["scanId"]]
    failures = {f["index"]: f for f in body["failed"]}
    assert set(failures) == {0, 2, 3}
    assert failures[0]["scanId"] == naive["scanId"]
    assert "timestamp" in failures[0]["error"]["details"]
    assert "scanId" in failures[3]["error"]["details"]
    assert all(f["error"]["code"] == "invalid" for f in body["failed"])


def test_more_than_a_thousand_scans_is_refused_before_any_work(api, participant, gate):
    scans = [scan_body(participant, gate) for _ in range(1001)]
    response = api.post(BATCH, {"scans": scans})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "batch_too_large"
    assert not Scan.objects.exists()


def test_a_thousand_scans_are_accepted_in_one_request(api, event, gate):
    participants = Participant.objects.bulk_create(
        [Participant(event=event, name=f"Guest {n}", email=f"guest{n}@example.com") for n in range(1000)]
    )
    response = api.post(BATCH, {"scans": [scan_body(p, gate) for p in participants]})
    assert response.status_code == 200
    assert len(response.json()["successful"]) == 1000
    assert Scan.objects.filter(result="accepted").count() == 1000
    assert OutboxEvent.objects.count() == 1000


@pytest.mark.parametrize("body", [{}, {"scans": "many"}, {"scans": None}, [1, 2]])
def test_a_batch_without_a_scans_list_is_invalid(api, body):
    response = api.post(BATCH, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_batch_scans_identified_by_token_alone_or_with_their_id_are_matched(api, event, participant, gate):
    by_token_only = ParticipantFactory(event=event)
    other = ParticipantFactory(event=event)
    now = timezone.now() - timedelta(minutes=30)
    printed = scan_body(by_token_only, gate, at=now)
    del printed["participantId"]
    printed["token"] = format_token(by_token_only.token).lower()
    both = scan_body(participant, gate, at=now, token=participant.token)
    mismatched = scan_body(participant, gate, at=now + timedelta(minutes=1), token=other.token)
    body = api.post(BATCH, {"scans": [printed, both, mismatched]}).json()
    assert {s["participant"]["id"] for s in body["successful"]} == {str(by_token_only.public_id), str(participant.public_id)}
    assert [(f["scanId"], f["error"]["code"]) for f in body["failed"]] == [(mismatched["scanId"], "participant_not_found")]
