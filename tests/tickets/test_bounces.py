"""POST /api/v1/email/bounces: authenticated bounce notifications stop further sends."""

import pytest

from participants.models import Participant
from participants.tickets.emails import queue_welcome_emails
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/email/bounces"
SECRET = "bounce-secret-for-tests"  # noqa: S105


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.EMAIL_BOUNCE_SECRET = SECRET


def _post(client, body, secret=SECRET):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.post(URL, body, content_type="application/json", headers=headers)


def test_a_bounce_by_message_id_marks_the_participant_bounced(client):
    participant = ParticipantFactory(email_status="sent", email_message_id="<abc.123@gatehouse.localhost>")

    response = _post(client, {"messageId": "<abc.123@gatehouse.localhost>", "reason": "550 5.1.1 user unknown"})

    assert response.status_code == 200
    assert response.json() == {"bounced": 1}
    participant.refresh_from_db()
    assert participant.email_status == Participant.EmailStatus.BOUNCED
    assert "user unknown" in participant.email_last_error


def test_a_bounce_by_event_and_email_matches_case_insensitively(client):
    participant = ParticipantFactory(email="kim@example.com", email_status="sent")
    other_event_same_email = ParticipantFactory(email="kim@example.com", email_status="sent")

    response = _post(client, {"event": participant.event.slug, "email": "KIM@example.com"})

    assert response.json() == {"bounced": 1}
    participant.refresh_from_db()
    other_event_same_email.refresh_from_db()
    assert participant.email_status == Participant.EmailStatus.BOUNCED
    assert other_event_same_email.email_status == Participant.EmailStatus.SENT


def test_a_bounced_participant_gets_no_further_sends(client, smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    _post(client, {"event": participant.event.slug, "email": participant.email})

    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_welcome_emails(participant_ids=[participant.pk])

    assert queued == 0
    assert smtp_server.messages == []


def test_an_unknown_message_id_answers_200_with_nothing_bounced(client):
    assert _post(client, {"messageId": "<nobody@example.com>"}).json() == {"bounced": 0}


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_without_the_right_secret_the_endpoint_answers_401(client, secret):
    participant = ParticipantFactory(email_status="sent", email_message_id="<x@y>")

    response = _post(client, {"messageId": "<x@y>"}, secret=secret)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    participant.refresh_from_db()
    assert participant.email_status == Participant.EmailStatus.SENT


def test_with_no_secret_configured_nobody_gets_in(client, settings):
    settings.EMAIL_BOUNCE_SECRET = ""

    assert _post(client, {"messageId": "<x@y>"}, secret="").status_code == 401


def test_a_body_naming_no_participant_is_a_400_naming_the_field(client):
    response = _post(client, {"email": "kim@example.com"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "messageId" in response.json()["error"]["details"]
