"""Celery entry points for tickets and notifications: small, idempotent, ids in, services do the work."""

import smtplib

from celery import shared_task
from django.conf import settings

from participants import emails

# acks_late + reject_on_worker_lost (global settings, repeated here because losing a send
# loses a ticket): a worker killed mid-send leaves the message to be delivered again, and the
# database claim makes the second run a no-op if the first one got through.


@shared_task(
    name="participants.send_welcome_email",
    acks_late=True,
    reject_on_worker_lost=True,
    rate_limit=settings.TICKET_EMAIL_RATE_LIMIT,
    ignore_result=True,
)
def send_welcome_email(participant_id: int, attempt: int) -> str:
    return emails.send_welcome_email(participant_id=participant_id, attempt=attempt).outcome


@shared_task(name="participants.send_due_welcome_emails", acks_late=True, ignore_result=True)
def send_due_welcome_emails() -> int:
    """Periodic sweep: enqueue retries whose time has come and sends whose worker was lost.

    Retries wait in the database, not in a Celery countdown: on Redis a countdown longer than
    the visibility timeout is delivered again and again.
    """
    due = emails.due_sends(limit=settings.TICKET_EMAIL_SWEEP_BATCH)
    for participant_id, attempt in due:
        send_welcome_email.delay(participant_id, attempt)
    return len(due)


def enqueue_welcome_emails(participant_ids, *, attempt: int) -> None:
    for participant_id in participant_ids:
        send_welcome_email.delay(participant_id, attempt)


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
