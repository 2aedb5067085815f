"""Delivery rules against a real SMTP server: retries, permanent failures, the double-send guard."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from participants.models import Participant
from participants.tickets import bounces, emails
from participants.tickets.emails import queue_welcome_emails
from participants.tickets.tasks import send_due_welcome_emails
from tests.factories import ParticipantFactory
from tests.with_services import free_port

pytestmark = pytest.mark.django_db
EmailStatus = Participant.EmailStatus


def _queue(participants, capture):
    with capture(execute=True):
        return queue_welcome_emails(participant_ids=[p.pk for p in participants])


def _make_due(participant):
    Participant.objects.filter(pk=participant.pk).update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_451_reply_leaves_the_send_pending_with_a_stored_next_attempt(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    smtp_server.handler.rcpt_replies.append("451 4.7.1 Greylisted, try again later")
    before = timezone.now()

    _queue([participant], django_capture_on_commit_callbacks)

    participant.refresh_from_db()
    assert smtp_server.messages == []
    assert participant.email_status == EmailStatus.PENDING
    assert participant.email_attempts == 1
    assert "451" in participant.email_last_error
    first_delay = django_settings.TICKET_EMAIL_RETRY_DELAYS_SECONDS[0]
    assert participant.email_next_attempt_at >= before + timedelta(seconds=first_delay)


def test_the_periodic_sweep_retries_a_due_send_which_then_succeeds(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    smtp_server.handler.rcpt_replies.append("451 4.7.1 Greylisted, try again later")
    _queue([participant], django_capture_on_commit_callbacks)
    assert send_due_welcome_emails.delay().get() == 0  # not due yet: nothing is sent early
    _make_due(participant)

    assert send_due_welcome_emails.delay().get() == 1

    participant.refresh_from_db()
    assert len(smtp_server.messages) == 1
    assert participant.email_status == EmailStatus.SENT
    assert participant.email_attempts == 2
    assert participant.email_last_error == ""
    assert participant.email_next_attempt_at is None


def test_transient_failures_stop_after_three_retries(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    smtp_server.handler.data_replies.extend(["421 4.3.2 Service not available"] * 5)
    _queue([participant], django_capture_on_commit_callbacks)
    for _ in range(3):
        _make_due(participant)
        send_due_welcome_emails.delay()

    participant.refresh_from_db()
    assert participant.email_attempts == 4
    assert participant.email_status == EmailStatus.FAILED
    assert participant.email_next_attempt_at is None
    _make_due(participant)
    assert send_due_welcome_emails.delay().get() == 0


def test_the_retry_delays_fit_in_24_hours():
    assert len(django_settings.TICKET_EMAIL_RETRY_DELAYS_SECONDS) == 3
    assert sum(django_settings.TICKET_EMAIL_RETRY_DELAYS_SECONDS) <= 24 * 3600


def test_a_550_reply_fails_permanently_without_retry(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    smtp_server.handler.rcpt_replies.append("550 5.1.1 No such user here")

    _queue([participant], django_capture_on_commit_callbacks)

    participant.refresh_from_db()
    assert participant.email_status == EmailStatus.FAILED
    assert participant.email_attempts == 1
    assert "550" in participant.email_last_error
    assert participant.email_next_attempt_at is None
    assert smtp_server.messages == []


def test_an_unreachable_smtp_server_is_a_transient_failure(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    participant = ParticipantFactory()

    _queue([participant], django_capture_on_commit_callbacks)

    participant.refresh_from_db()
    assert participant.email_status == EmailStatus.PENDING
    assert "ConnectionRefusedError" in participant.email_last_error
    assert participant.email_next_attempt_at > timezone.now()


def test_queueing_the_same_ticket_twice_in_quick_succession_sends_one_email(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()

    assert _queue([participant], django_capture_on_commit_callbacks) == 1
    assert _queue([participant], django_capture_on_commit_callbacks) == 0

    assert len(smtp_server.messages) == 1


def test_the_same_send_task_delivered_twice_sends_one_email(smtp_server):
    participant = ParticipantFactory()
    Participant.objects.filter(pk=participant.pk).update(email_status=EmailStatus.PENDING, email_attempts=0)

    first = emails.send_welcome_email(participant_id=participant.pk, attempt=0)
    second = emails.send_welcome_email(participant_id=participant.pk, attempt=0)

    assert (first.outcome, second.outcome) == ("sent", "skipped")
    assert len(smtp_server.messages) == 1


def test_a_ticket_sent_long_ago_can_be_sent_again(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    _queue([participant], django_capture_on_commit_callbacks)
    Participant.objects.filter(pk=participant.pk).update(email_sent_at=timezone.now() - timedelta(days=1))

    assert _queue([participant], django_capture_on_commit_callbacks) == 1

    assert len(smtp_server.messages) == 2


def test_bounced_and_inactive_participants_are_not_queued(smtp_server, django_capture_on_commit_callbacks):
    bounced = ParticipantFactory(email_status=EmailStatus.BOUNCED)
    blocked = ParticipantFactory(status=Participant.Status.BLOCKED)

    assert _queue([bounced, blocked], django_capture_on_commit_callbacks) == 0
    assert smtp_server.messages == []


def test_a_bounce_recorded_while_a_retry_waits_stops_the_retry(smtp_server, django_capture_on_commit_callbacks):
    participant = ParticipantFactory()
    smtp_server.handler.rcpt_replies.append("451 4.7.1 try later")
    _queue([participant], django_capture_on_commit_callbacks)
    participant.refresh_from_db()
    bounces.record_bounce(message_id=participant.email_message_id, reason="mailbox unavailable")
    _make_due(participant)

    assert send_due_welcome_emails.delay().get() == 0

    participant.refresh_from_db()
    assert participant.email_status == EmailStatus.BOUNCED
    assert smtp_server.messages == []


def test_the_sweep_runs_from_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["participants.send_due_welcome_emails"]
    assert entry["task"] == send_due_welcome_emails.name
    assert entry["schedule"] <= 300


def test_consecutive_sends_reuse_one_smtp_session(smtp_server, django_capture_on_commit_callbacks):
    _queue(ParticipantFactory.create_batch(3), django_capture_on_commit_callbacks)

    assert len(smtp_server.handler.sessions) == 3
    assert len(set(smtp_server.handler.sessions)) == 1


def test_a_session_the_server_dropped_is_reopened_without_failing_the_send(smtp_server, django_capture_on_commit_callbacks):
    first, second = ParticipantFactory(), ParticipantFactory()
    _queue([first], django_capture_on_commit_callbacks)
    smtp_server.restart()

    _queue([second], django_capture_on_commit_callbacks)

    second.refresh_from_db()
    assert second.email_status == EmailStatus.SENT
    assert len(smtp_server.messages) == 2


def test_a_participant_cancelled_while_their_email_waits_is_released_by_the_sweep(
    smtp_server, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory()
    smtp_server.handler.rcpt_replies.append("451 4.7.1 try later")
    _queue([participant], django_capture_on_commit_callbacks)
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.CANCELLED)
    _make_due(participant)

    assert send_due_welcome_emails.delay().get() == 0

    participant.refresh_from_db()
    assert participant.email_status == EmailStatus.UNSENT
    assert participant.email_next_attempt_at is None
    assert smtp_server.messages == []


def test_a_send_lost_with_its_worker_on_the_last_attempt_is_failed_not_swept_forever(smtp_server):
    participant = ParticipantFactory()
    # What a worker killed during the 4th (last allowed) attempt leaves behind.
    Participant.objects.filter(pk=participant.pk).update(
        email_status=EmailStatus.PENDING, email_attempts=4, email_next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    assert send_due_welcome_emails.delay().get() == 0

    participant.refresh_from_db()
    assert participant.email_status == EmailStatus.FAILED
    assert "gave up after 4 attempts" in participant.email_last_error
    assert smtp_server.messages == []
