"""tokens/verify, gate-sync and stats: what a gate tablet reads."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import Scan
from participants.models import Participant
from participants.tokens import format_token
from tests.attendance.scan_bodies import scan_body
from tests.factories import EventFactory, ParticipantFactory

VERIFY = "/api/v1/tokens/verify"
pytestmark = pytest.mark.django_db


def test_verify_answers_the_participant_and_records_nothing(api, participant):
    response = api.post(VERIFY, {"token": format_token(participant.token, "TCF26")})
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "participant": {"id": str(participant.public_id), "name": "Kim Minsu", "status": "registered", "checkedIn": False},
    }
    assert not Scan.objects.exists()


def test_verify_says_checked_in_after_an_accepted_entry(api, participant, gate):
    api.post("/api/v1/attendance/record", scan_body(participant, gate))
    assert api.post(VERIFY, {"token": participant.token}).json()["participant"]["checkedIn"] is True


def test_verify_of_a_blocked_participant_is_not_valid(api, participant):
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.BLOCKED)
    body = api.post(VERIFY, {"token": participant.token}).json()
    assert (body["valid"], body["participant"]["status"]) == (False, "blocked")


@pytest.mark.parametrize("token", ["ABCDEFGHJKMNPQRSTVWXYZ01234567", "ABCDE-FGHJK", "<script>", "' OR '1'='1"])
def test_verify_of_an_unknown_forged_or_truncated_token_is_404(api, participant, token):
    response = api.post(VERIFY, {"token": token})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "participant_not_found"


def test_verify_cannot_see_another_events_participants(api):
    stranger = ParticipantFactory()
    assert api.post(VERIFY, {"token": stranger.token}).status_code == 404


def test_gate_sync_pages_through_all_participants_with_gates_and_public_key(api, event, gate, exit_gate, monkeypatch):
    monkeypatch.setattr("attendance.selectors.SYNC_PAGE_SIZE", 3)
    ParticipantFactory.create_batch(7, event=event)
    ParticipantFactory()  # another event's
    url = f"/api/v1/events/{event.slug}/gate-sync"
    seen, cursor, pages = [], None, 0
    while True:
        body = api.get(url, **({"cursor": cursor} if cursor else {})).json()
        pages += 1
        seen += body["participants"]
        cursor = body["nextCursor"]
        if not body["hasMore"]:
            break
    assert pages == 3
    assert len(seen) == len({p["id"] for p in seen}) == 7
    assert set(seen[0]) == {"id", "token", "name", "status"}
    assert [g["id"] for g in body["gates"]] == ["main-entrance", "main-exit"]
    padded = body["publicKey"] + "=" * (-len(body["publicKey"]) % 4)
    assert base64.urlsafe_b64decode(padded) == bytes(event.signing_public_key)


def test_gate_sync_from_the_last_cursor_returns_only_what_changed(api, event):
    participants = ParticipantFactory.create_batch(3, event=event)
    url = f"/api/v1/events/{event.slug}/gate-sync"
    cursor = api.get(url).json()["nextCursor"]
    assert api.get(url, cursor=cursor).json()["participants"] == []
    changed = participants[0]
    changed.status = Participant.Status.CANCELLED
    changed.save()
    update = api.get(url, cursor=cursor).json()["participants"]
    assert [(p["id"], p["status"]) for p in update] == [(str(changed.public_id), "cancelled")]


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyIyMDI2LTAxLTAxIiwgMV0", "eyJ4IjogMX0"])
def test_gate_sync_with_a_cursor_it_did_not_issue_is_400(api, event, cursor):
    response = api.get(f"/api/v1/events/{event.slug}/gate-sync", cursor=cursor)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_stats_answer_the_device_with_the_live_numbers(api, event, participant, gate, side_gate, exit_gate):
    from tests.analytics.scans import relay

    other = ParticipantFactory(event=event)
    ParticipantFactory(event=event)
    start = timezone.now() - timedelta(minutes=50)
    api.post("/api/v1/attendance/record", scan_body(participant, gate, at=start))
    api.post("/api/v1/attendance/record", scan_body(participant, side_gate, at=start + timedelta(minutes=1)))  # already in
    api.post("/api/v1/attendance/record", scan_body(other, side_gate, at=start, method="manual"))
    api.post("/api/v1/attendance/record", scan_body(other, exit_gate, at=start + timedelta(minutes=30)))
    relay()
    stats = api.get(f"/api/v1/events/{event.slug}/stats").json()
    assert (stats["overall"]["registered"], stats["overall"]["checkedIn"], stats["overall"]["insideNow"]) == (3, 2, 1)
    assert stats["overall"]["scans"]["accepted"] == 3
    assert stats["methods"] == {"qr_scan": 2, "ble_auto": 0, "manual": 1}
    assert sum(h["count"] for h in stats["hourly"]) == 3  # accepted scans, entries and exits


def test_stats_refuse_a_device_of_another_event(api):
    other_event = EventFactory()
    response = api.get(f"/api/v1/events/{other_event.slug}/stats")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
