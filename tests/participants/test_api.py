"""POST /api/v1/events/{slug}/participants (one) and /participants/bulk (many)."""

import pytest
from rest_framework.test import APIClient

from events.models import Membership
from integrations.outbox import OutboxEvent
from participants.models import Participant
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return EventFactory(token_prefix="TCF24")


def client_for(event, role=Membership.Role.MANAGER):
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=role)
    client = APIClient()
    client.force_login(user)
    return client


def url(event, bulk=False):
    return f"/api/v1/events/{event.slug}/participants" + ("/bulk" if bulk else "")


def test_register_returns_201_with_token(event):
    response = client_for(event).post(
        url(event),
        {"name": " Kim Minsu ", "email": "Minsu@Example.com", "phone": "010-1234-5678", "birthDate": "1990-01-02"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    participant = Participant.objects.get(event=event)
    assert body["token"] == participant.token and body["ticketCode"].startswith("TCF24-")
    assert (body["name"], body["email"], body["phone"], body["birthDate"]) == (
        "Kim Minsu",
        "minsu@example.com",
        "+821012345678",
        "1990-01-02",
    )
    assert OutboxEvent.objects.get(event_id=event.pk).topic == "participant.registered"


def test_same_email_in_other_case_is_409_duplicate_email(event):
    ParticipantFactory(event=event, email="minsu@example.com")
    response = client_for(event).post(url(event), {"name": "Kim Minsu", "email": "MINSU@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_email"


def test_field_errors_are_400_with_the_import_codes(event):
    response = client_for(event).post(
        url(event), {"name": "K", "email": "nope", "phone": "12", "birthDate": "2020-01-01"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    codes = {field: [e["code"] for e in errors] for field, errors in error["details"].items()}
    assert codes == {
        "name": ["name_too_short"],
        "email": ["invalid_email"],
        "phone": ["invalid_phone"],
        "birthDate": ["too_young"],
    }
    assert error["details"]["phone"][0]["message"].startswith("Not a phone number we can read: '12'")
    assert not Participant.objects.exists()


def test_viewer_is_403_and_stranger_404(event):
    assert (
        client_for(event, Membership.Role.VIEWER)
        .post(url(event), {"name": "Kim A", "email": "a@example.com"}, format="json")
        .status_code
        == 403
    )
    stranger = APIClient()
    stranger.force_login(UserFactory())
    assert stranger.post(url(event), {"name": "Kim A", "email": "a@example.com"}, format="json").status_code == 404
    assert APIClient().post(url(event), {}, format="json").status_code in (401, 403)
    assert not Participant.objects.exists()


def test_bulk_creates_updates_and_reports_by_index(event):
    ParticipantFactory(event=event, email="old@example.com", name="Old Name")
    items = [
        {"name": "New One", "email": "new@example.com"},
        {"name": "Renamed", "email": "OLD@example.com"},
        {"name": "New Again", "email": "new@example.com"},
        {"name": "Bad", "email": "bad"},
    ]
    response = client_for(event).post(url(event, bulk=True), {"participants": items}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(c["index"], c["email"]) for c in body["created"]] == [(0, "new@example.com")]
    assert body["created"][0]["token"]
    assert [(u["index"], u["name"]) for u in body["updated"]] == [(1, "Renamed")]
    assert body["duplicates"] == [{"index": 2, "email": "new@example.com"}]
    assert body["errors"] == [{"index": 3, "field": "email", "code": "invalid_email", "message": body["errors"][0]["message"]}]
    assert Participant.objects.filter(event=event).count() == 2


def test_bulk_replay_changes_nothing(event):
    client = client_for(event)
    items = [{"name": "Kim A", "email": "a@example.com"}]
    client.post(url(event, bulk=True), {"participants": items}, format="json")
    body = client.post(url(event, bulk=True), {"participants": items}, format="json").json()
    assert (body["created"], body["updated"], body["duplicates"]) == ([], [], [{"index": 0, "email": "a@example.com"}])
    assert Participant.objects.count() == 1


def test_bulk_refuses_more_than_1000_items(event):
    items = [{"name": f"Person {i}", "email": f"p{i}@example.com"} for i in range(1001)]
    response = client_for(event).post(url(event, bulk=True), {"participants": items}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Participant.objects.exists()
