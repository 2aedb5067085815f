"""Celery entry points of the tickets sub-domain (welcome emails, import notices): small, idempotent, ids in, services do the work.

The names are pinned (`name=`) to what they were when these tasks lived in participants/tasks.py:
beat entries and messages already queued address them by name.
"""

import smtplib
import threading
import time

from celery import shared_task
from celery.utils.time import rate
from django.conf import settings
from kombu.utils.limits import TokenBucket

from participants.tickets import emails


class SendRateLimiter:
    """TICKET_EMAIL_RATE_LIMIT per worker process, shared by its threads (kombu's token bucket).

    Why not the task's Celery `rate_limit`: measured here with acks_late and prefetch 1, a
    "10/s" limit on a worker with 2 or 4 threads (or 2 prefork children) delivered 60 emails
    in 15-35 s instead of 6 s. The same TokenBucket Celery uses, applied in the task, holds
    the limit exactly at any concurrency.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bucket: TokenBucket | None = None
        self._rate: float | None = None

    def wait(self) -> None:
        per_second = rate(settings.TICKET_EMAIL_RATE_LIMIT)
        if not per_second:
            return
        with self._lock:  # waiting threads queue up here, so the spacing holds across threads
            if self._bucket is None or self._rate != per_second:
                self._bucket, self._rate = TokenBucket(per_second, capacity=1), per_second
            while not self._bucket.can_consume(1):
                time.sleep(self._bucket.expected_time(1))


send_rate_limiter = SendRateLimiter()

# acks_late + reject_on_worker_lost (global settings, repeated here because losing a send
# loses a ticket): a worker killed mid-send leaves the message to be delivered again, and the
# database claim makes the second run a no-op if the first one got through.


@shared_task(
    bind=True,
    name="participants.send_welcome_email",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def send_welcome_email(self, participant_id: int, attempt: int) -> str:
    # Run in-process (embedded mode, no worker), the limit would only stall the admin's request.
    throttle = None if self.request.is_eager else send_rate_limiter.wait
    return emails.send_welcome_email(participant_id=participant_id, attempt=attempt, throttle=throttle).outcome


@shared_task(name="participants.send_due_welcome_emails", acks_late=True, ignore_result=True)
def send_due_welcome_emails() -> int:
    """Periodic sweep: enqueue retries whose time has come and sends whose worker was lost.

    Retries wait in the database, not in a Celery countdown: on Redis a countdown longer than
    the visibility timeout is delivered again and again.
    """
    emails.settle_stale_sends()
    due = emails.due_sends(limit=settings.TICKET_EMAIL_SWEEP_BATCH)
    for participant_id, attempt in due:
        send_welcome_email.delay(participant_id, attempt)
    return len(due)


@shared_task(
    name="participants.send_import_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError),
    retry_backoff=60,
    max_retries=5,
    ignore_result=True,
)
def send_import_notification(job_id: int) -> bool:
    return emails.send_import_notification(job_id=job_id)
