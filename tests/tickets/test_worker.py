"""Delivery with real Celery worker processes: double delivery, and a worker killed mid-send."""

import json
import threading

import pytest
import redis
from django.conf import settings
from django.db import connection

from participants.models import Participant
from participants.tickets.emails import queue_welcome_emails
from participants.tickets.tasks import send_welcome_email
from tests.factories import ParticipantFactory
from tests.waiting import wait_until

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
EmailStatus = Participant.EmailStatus


def _status(participant) -> Participant:
    return Participant.objects.get(pk=participant.pk)


def _in_flight(broker, queue: str) -> int:
    """Messages of `queue` still waiting or running: with acks_late a delivered message stays in
    kombu's "unacked" hash (as [message, exchange, routing key]) until its task has finished."""
    running = sum(1 for raw in broker.hvals("unacked") if json.loads(raw)[2] == queue)
    return broker.llen(queue) + running


def test_the_same_send_delivered_three_times_to_two_worker_threads_sends_one_email(smtp_server, celery_processes):
    participant = ParticipantFactory()
    celery_processes.start_worker(concurrency=2)

    assert queue_welcome_emails(participant_ids=[participant.pk]) == 1
    # What a re-delivery (or a second enqueue racing the first) looks like to the workers.
    send_welcome_email.delay(participant.pk, 0)
    send_welcome_email.delay(participant.pk, 0)

    wait_until(lambda: _status(participant).email_status == EmailStatus.SENT, message="the send")
    broker = redis.Redis.from_url(settings.REDIS_URL)
    wait_until(
        lambda: _in_flight(broker, celery_processes.queue) == 0, message="the duplicate deliveries to finish their (no-op) run"
    )
    assert len(smtp_server.messages) == 1
    assert _status(participant).email_attempts == 1


def test_a_worker_killed_mid_send_loses_no_email(smtp_server, celery_processes):
    participant = ParticipantFactory()
    smtp_server.handler.hold_data.set()
    doomed = celery_processes.start_worker()

    queue_welcome_emails(participant_ids=[participant.pk])
    assert smtp_server.handler.data_arrived.wait(60), celery_processes.logs()
    doomed.kill()  # SIGKILL while the message is in the SMTP DATA phase
    doomed.wait(10)
    smtp_server.handler.hold_data.clear()

    killed = _status(participant)
    assert killed.email_status == EmailStatus.PENDING
    assert killed.email_attempts == 1
    assert smtp_server.messages == []

    # A fresh worker and the beat schedule: the sweep finds the send once its lease (2 s here) ends.
    celery_processes.start_worker()
    celery_processes.start_beat()
    wait_until(lambda: _status(participant).email_status == EmailStatus.SENT, timeout=90, message="the re-sent email")

    assert [m["To"] for m in smtp_server.messages] == [participant.email]
    assert _status(participant).email_attempts == 2


def test_two_concurrent_send_requests_for_one_ticket_queue_it_once(smtp_server, celery_processes):
    participant = ParticipantFactory()
    celery_processes.start_worker()
    barrier = threading.Barrier(2)
    results = []

    def click():
        barrier.wait()
        results.append(queue_welcome_emails(participant_ids=[participant.pk]))
        connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results) == [0, 1]
    wait_until(lambda: _status(participant).email_status == EmailStatus.SENT, message="the send")
    broker = redis.Redis.from_url(settings.REDIS_URL)
    wait_until(lambda: _in_flight(broker, celery_processes.queue) == 0, message="every queued send to have run")
    assert len(smtp_server.messages) == 1


def test_a_worker_holds_the_send_rate_limit_across_its_threads(smtp_server, celery_processes):
    participants = ParticipantFactory.create_batch(11)
    celery_processes.start_worker(concurrency=4, TICKET_EMAIL_RATE_LIMIT="5/s")

    queue_welcome_emails(participant_ids=[p.pk for p in participants])

    sent = Participant.objects.filter(pk__in=[p.pk for p in participants], email_status=EmailStatus.SENT)
    wait_until(lambda: sent.count() == 11, message="all eleven sends")
    times = sorted(sent.values_list("email_sent_at", flat=True))
    # 11 sends at 5/s are 10 gaps of 0.2 s however the 4 threads race; unlimited they take a
    # fraction of a second. The margin absorbs the first send's cold start.
    assert (times[-1] - times[0]).total_seconds() >= 1.5
    assert len(smtp_server.messages) == 11
