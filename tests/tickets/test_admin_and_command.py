"""The organiser's ways to send tickets: admin actions, the participant page, `send_tickets`."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from participants.models import Participant
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:participants_participant_changelist")


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


def test_the_participant_page_shows_the_qr_and_delivery_fields(superuser_client):
    participant = ParticipantFactory(email_last_error="451 try later")

    response = superuser_client.get(reverse("admin:participants_participant_change", args=[participant.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body
    assert "/qr.png" in body
    assert "451 try later" in body


def test_the_changelist_filters_by_email_status(superuser_client):
    ParticipantFactory(name="Bounced Person", email_status="bounced")
    ParticipantFactory(name="Sent Person", email_status="sent")

    body = superuser_client.get(CHANGELIST, {"email_status__exact": "bounced"}).content.decode()

    assert "Bounced Person" in body
    assert "Sent Person" not in body


def test_the_send_to_selected_action_sends_tickets(superuser_client, smtp_server, django_capture_on_commit_callbacks):
    chosen, other = ParticipantFactory(), ParticipantFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            CHANGELIST, {"action": "send_tickets_to_selected", "_selected_action": [chosen.pk]}, follow=True
        )

    assert "Queued 1 ticket email(s)" in response.content.decode()
    assert [m["To"] for m in smtp_server.messages] == [chosen.email]
    other.refresh_from_db()
    assert other.email_status == Participant.EmailStatus.UNSENT


def test_send_to_everyone_not_yet_sent_needs_no_selection_and_respects_the_filter(
    superuser_client, smtp_server, django_capture_on_commit_callbacks
):
    event = EventFactory()
    unsent = ParticipantFactory(event=event)
    failed = ParticipantFactory(event=event, email_status="failed")
    ParticipantFactory(event=event, email_status="sent")
    ParticipantFactory(event=event, email_status="bounced")
    elsewhere = ParticipantFactory()

    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(f"{CHANGELIST}?event__id__exact={event.pk}", {"action": "send_tickets_to_unsent"})

    assert sorted(m["To"] for m in smtp_server.messages) == sorted([unsent.email, failed.email])
    elsewhere.refresh_from_db()
    assert elsewhere.email_status == Participant.EmailStatus.UNSENT


def test_a_viewer_cannot_send_tickets(client, smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    viewer = MembershipFactory(organization=participant.event.organization, role="viewer").user
    client.force_login(viewer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "send_tickets_to_selected", "_selected_action": [participant.pk]})

    assert smtp_server.messages == []


def test_send_tickets_command_queues_never_emailed_participants(smtp_server, django_capture_on_commit_callbacks):
    event = EventFactory()
    ParticipantFactory.create_batch(2, event=event)
    ParticipantFactory(event=event, email_status="failed")
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_tickets", "--event", event.slug, stdout=out)

    assert out.getvalue().strip().splitlines()[-1] == "queued=2"
    assert len(smtp_server.messages) == 2


def test_send_tickets_all_unsent_also_retries_failed(smtp_server, django_capture_on_commit_callbacks):
    event = EventFactory()
    ParticipantFactory(event=event)
    ParticipantFactory(event=event, email_status="failed")
    ParticipantFactory(event=event, email_status="bounced")
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_tickets", "--event", event.slug, "--all-unsent", stdout=out)

    assert out.getvalue().strip().splitlines()[-1] == "queued=2"
    assert len(smtp_server.messages) == 2


def test_send_tickets_for_an_unknown_event_fails():
    with pytest.raises(CommandError, match="no-such-event"):
        call_command("send_tickets", "--event", "no-such-event")


def test_allow_sending_again_resets_a_bounced_participant(superuser_client, smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory(email_status="bounced", email_last_error="bounced: user unknown")
    superuser_client.post(CHANGELIST, {"action": "allow_resend_to_selected", "_selected_action": [participant.pk]})
    participant.refresh_from_db()
    assert participant.email_status == Participant.EmailStatus.UNSENT

    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(CHANGELIST, {"action": "send_tickets_to_selected", "_selected_action": [participant.pk]})

    assert [m["To"] for m in smtp_server.messages] == [participant.email]
