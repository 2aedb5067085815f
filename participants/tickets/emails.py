"""Email delivery: the welcome email with the ticket, queueing it, its delivery rules, import notices.

Delivery state lives on the participant row (email_status, attempts, next attempt time), not
in Celery: a send is *claimed* with a conditional UPDATE, so two deliveries of the same task
or two quick clicks send one email, and a send whose worker died is found again by the
periodic sweep once its lease runs out.
"""

import contextlib
import logging
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.mime.image import MIMEImage
from email.utils import make_msgid, parseaddr

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.message import SafeMIMEMultipart
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from events.models import Event
from participants.models import ImportJob, Participant
from participants.tickets.qr import participant_qr_png, qr_link_url
from participants.tokens import format_token

logger = logging.getLogger(__name__)

EmailStatus = Participant.EmailStatus
QR_CONTENT_ID = "ticket-qr"

# The Celery tasks (participants/tickets/tasks.py) that run these services, by their pinned
# names: services enqueue by name after commit, tasks import services, never the other way.
SEND_WELCOME_EMAIL_TASK = "participants.send_welcome_email"
SEND_IMPORT_NOTIFICATION_TASK = "participants.send_import_notification"


class RelatedEmail(EmailMultiAlternatives):
    """Text + HTML alternatives wrapped in multipart/related with inline (cid:) images.

    Django nests alternatives directly in multipart/mixed; an HTML part that refers to
    cid: images belongs in multipart/related with them (RFC 2387), or some clients show the
    image twice or not at all. Result: mixed[related[alternative[text, html], images], attachments].
    """

    def __init__(self, *args, inline_images: list[MIMEImage] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = inline_images or []

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline_images:
            return msg
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(msg)
        for image in self.inline_images:
            related.attach(image)
        return related


def _message_id_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "gatehouse.localhost"


def _event_context(event) -> dict:
    starts = timezone.localtime(event.starts_at, event.tzinfo)
    ends = timezone.localtime(event.ends_at, event.tzinfo)
    return {
        "event": event,
        "starts_display": date_format(starts, "DATETIME_FORMAT"),
        "ends_display": date_format(ends, "DATETIME_FORMAT"),
        "timezone_name": event.timezone,
    }


def build_welcome_email(participant: Participant, *, message_id: str | None = None) -> RelatedEmail:
    """The welcome email in the event's language: text and HTML, QR inline (cid) and attached."""
    event = participant.event
    png = participant_qr_png(participant)
    language = event.language
    with translation.override(language):
        context = {
            **_event_context(event),
            "participant": participant,
            "printed_token": format_token(participant.token, event.token_prefix),
            "qr_cid": QR_CONTENT_ID,
            "qr_link": qr_link_url(participant, kind="png"),
        }
        subject = render_to_string(f"emails/welcome_subject.{language}.txt", context).strip()
        text = render_to_string(f"emails/welcome.{language}.txt", context)
        html = render_to_string(f"emails/welcome.{language}.html", context)

    inline = MIMEImage(png, "png")
    inline.add_header("Content-ID", f"<{QR_CONTENT_ID}>")
    inline.add_header("Content-Disposition", "inline", filename="ticket-qr.png")
    message = RelatedEmail(
        subject=" ".join(subject.split()),  # no newlines in a header
        body=text,
        to=[participant.email],
        headers={"Message-ID": message_id or make_msgid(domain=_message_id_domain())},
        inline_images=[inline],
    )
    message.attach_alternative(html, "text/html")
    message.attach(f"ticket-{event.slug}.png", png, "image/png")
    return message


# --- Delivery ----------------------------------------------------------------------------


class ReusedConnection(threading.local):
    """One open email connection per worker thread, reused for a while.

    Opening an SMTP session (connect, EHLO, QUIT) cost more than sending the message itself in
    bench/email; a long-lived session pays it once. It is dropped after an error, after
    EMAIL_CONNECTION_REUSE_SECONDS, and when the email settings change.
    """

    connection = None
    opened_at = 0.0
    key: tuple = ()

    def get(self):
        key = (settings.EMAIL_BACKEND, getattr(settings, "EMAIL_HOST", ""), getattr(settings, "EMAIL_PORT", 0))
        too_old = time.monotonic() - self.opened_at > settings.EMAIL_CONNECTION_REUSE_SECONDS
        if self.connection is not None and (key != self.key or too_old):
            self.discard()
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            connection.open()
            self.connection, self.opened_at, self.key = connection, time.monotonic(), key
        return self.connection

    def discard(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken session needs no orderly goodbye
                connection.close()


_reused = ReusedConnection()


def _deliver(message) -> None:
    was_open = _reused.connection is not None
    try:
        try:
            _reused.get().send_messages([message])
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not was_open:
                raise
            # The server closed our idle session: that says nothing about this message.
            _reused.discard()
            _reused.get().send_messages([message])
    except Exception:
        _reused.discard()
        raise


@dataclass(frozen=True)
class SendResult:
    outcome: str  # "sent", "skipped", "retry", "failed"
    error: str = ""


def classify_smtp_error(exc: BaseException) -> tuple[bool, str]:
    """(is_transient, description) for an exception raised while sending.

    4xx replies and connection trouble are transient; 5xx replies are permanent.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}" for code, msg in exc.recipients.values()
        )
        return all(400 <= code < 500 for code in codes), f"recipient refused: {text}"
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return 400 <= exc.smtp_code < 500, f"{exc.smtp_code} {message}"
    if isinstance(exc, smtplib.SMTPException | OSError):
        # SMTPServerDisconnected, refused connections, timeouts: the server may be back later.
        return True, f"{type(exc).__name__}: {exc}"
    return False, f"{type(exc).__name__}: {exc}"


def _claim_send(*, participant_id: int, attempt: int, message_id: str) -> bool:
    now = timezone.now()
    claimed = Participant.objects.filter(
        pk=participant_id,
        email_status=EmailStatus.PENDING,
        email_attempts=attempt,
        status__in=Participant.GOOD_STANDING,
    ).update(
        email_attempts=F("email_attempts") + 1,
        email_last_attempt_at=now,
        # The lease: if this worker dies mid-send, the sweep finds the row due again after it.
        email_next_attempt_at=now + timedelta(seconds=settings.TICKET_EMAIL_SEND_LEASE_SECONDS),
        email_message_id=message_id,
    )
    return claimed == 1


def send_welcome_email(*, participant_id: int, attempt: int, throttle: Callable[[], None] | None = None) -> SendResult:
    """Send one participant's welcome email, if this call wins the claim on attempt `attempt`.

    Idempotent: a second call with the same (participant_id, attempt) — a re-delivered task,
    a double click — finds the send already claimed and returns "skipped". Transient failures
    leave the participant pending with a later email_next_attempt_at (at most
    len(TICKET_EMAIL_RETRY_DELAYS_SECONDS) retries); permanent ones mark it failed. A bounce
    recorded meanwhile is never overwritten. `throttle` (the worker's rate limiter) is called
    after the claim, so duplicate deliveries that send nothing do not use up the rate.
    """
    message_id = make_msgid(domain=_message_id_domain())
    if not _claim_send(participant_id=participant_id, attempt=attempt, message_id=message_id):
        return SendResult("skipped")
    participant = Participant.objects.select_related("event").get(pk=participant_id)
    if throttle is not None:
        throttle()
    # Only our claim's row: a send whose lease ran out and was claimed again belongs to the new attempt.
    in_flight = Participant.objects.filter(pk=participant_id, email_status=EmailStatus.PENDING, email_attempts=attempt + 1)
    try:
        message = build_welcome_email(participant, message_id=message_id)
        _deliver(message)
    except Exception as exc:
        is_transient, error = classify_smtp_error(exc)
        if not isinstance(exc, smtplib.SMTPException | OSError):
            logger.exception("welcome email to participant %s failed unexpectedly", participant_id)
        return _record_failure(in_flight, participant=participant, is_transient=is_transient, error=error)
    in_flight.update(
        email_status=EmailStatus.SENT,
        email_sent_at=timezone.now(),
        email_next_attempt_at=None,
        email_last_error="",
    )
    return SendResult("sent")


def _record_failure(in_flight, *, participant: Participant, is_transient: bool, error: str) -> SendResult:
    delays = settings.TICKET_EMAIL_RETRY_DELAYS_SECONDS
    retries_used = participant.email_attempts - 1  # email_attempts already counts this attempt
    if is_transient and retries_used < len(delays):
        in_flight.update(
            email_last_error=error[:2000],
            email_next_attempt_at=timezone.now() + timedelta(seconds=delays[retries_used]),
        )
        logger.warning("welcome email to participant %s deferred: %s", participant.pk, error)
        return SendResult("retry", error)
    in_flight.update(email_status=EmailStatus.FAILED, email_last_error=error[:2000], email_next_attempt_at=None)
    logger.warning("welcome email to participant %s failed: %s", participant.pk, error)
    return SendResult("failed", error)


def settle_stale_sends(*, now=None) -> int:
    """Close pending sends that must not run again; return how many.

    A participant cancelled or blocked while their email waited goes back to unsent; a send
    whose worker was lost on its last allowed attempt is failed — so no row is swept forever.
    """
    now = now or timezone.now()
    due = Participant.objects.filter(email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now)
    released = due.exclude(status__in=Participant.GOOD_STANDING).update(
        email_status=EmailStatus.UNSENT, email_next_attempt_at=None
    )
    max_attempts = 1 + len(settings.TICKET_EMAIL_RETRY_DELAYS_SECONDS)
    given_up = due.filter(email_attempts__gte=max_attempts).update(
        email_status=EmailStatus.FAILED,
        email_next_attempt_at=None,
        email_last_error=f"gave up after {max_attempts} attempts (the last one was lost with its worker)",
    )
    return released + given_up


def due_sends(*, now=None, limit: int = 1000) -> list[tuple[int, int]]:
    """(participant_id, attempt) of pending sends whose next attempt time has come."""
    now = now or timezone.now()
    return list(
        Participant.objects.filter(email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now)
        .order_by("email_next_attempt_at")
        .values_list("pk", "email_attempts")[:limit]
    )


# --- Queueing welcome emails ------------------------------------------------------------


def queue_welcome_emails(*, participant_ids) -> int:
    """Queue the welcome email (the ticket) for these participants; return how many were queued.

    Skipped: participants not in good standing, bounced addresses, sends already queued or in
    flight (pending), and tickets sent less than TICKET_RESEND_GUARD_SECONDS ago — so a
    double click or a repeated command sends one email. Safe to call inside a transaction:
    the tasks are enqueued after commit.
    """
    now = timezone.now()
    recently = now - timedelta(seconds=settings.TICKET_RESEND_GUARD_SECONDS)
    sendable = Q(email_status__in=[Participant.EmailStatus.UNSENT, Participant.EmailStatus.FAILED]) | Q(
        email_status=Participant.EmailStatus.SENT, email_sent_at__lt=recently
    )
    with transaction.atomic():
        # Row locks make two concurrent calls serialise; the second re-reads the rows as pending.
        ids = list(
            Participant.objects.select_for_update()
            .filter(sendable, pk__in=list(participant_ids), status__in=Participant.GOOD_STANDING)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Participant.objects.filter(pk__in=ids).update(
            email_status=Participant.EmailStatus.PENDING,
            email_attempts=0,
            email_last_error="",
            # If no worker has claimed the send by then, the sweeper enqueues it again.
            email_next_attempt_at=now + timedelta(seconds=settings.TICKET_EMAIL_QUEUE_LEASE_SECONDS),
        )  # updated_at is left alone on purpose: it is the gate-sync cursor, and email state is no gate's business
        transaction.on_commit(lambda: enqueue_welcome_emails(ids, attempt=0))
    return len(ids)


def allow_resend(*, participant_ids) -> int:
    """Put bounced or failed participants back to unsent (e.g. after their address was fixed)."""
    return Participant.objects.filter(
        pk__in=list(participant_ids), email_status__in=[Participant.EmailStatus.BOUNCED, Participant.EmailStatus.FAILED]
    ).update(email_status=Participant.EmailStatus.UNSENT, email_attempts=0, email_last_error="", email_next_attempt_at=None)


def unsent_participant_ids(*, event: Event, include_failed: bool = True):
    statuses = [Participant.EmailStatus.UNSENT] + ([Participant.EmailStatus.FAILED] if include_failed else [])
    return Participant.objects.filter(event=event, email_status__in=statuses, status__in=Participant.GOOD_STANDING).values_list(
        "pk", flat=True
    )


def enqueue_welcome_emails(participant_ids, *, attempt: int) -> None:
    """Hand each send to a worker; call it after the commit that made the sends pending.

    By task name, so this module never imports the tasks that call it.
    """
    for participant_id in participant_ids:
        current_app.signature(SEND_WELCOME_EMAIL_TASK, args=(participant_id, attempt)).apply_async()


# --- Import notifications ----------------------------------------------------------------


def send_import_notification(*, job_id: int) -> bool:
    """Email the organiser who started an import its outcome; False when there is no one to tell."""
    job = ImportJob.objects.select_related("event", "created_by").get(pk=job_id)
    recipient = getattr(job.created_by, "email", "")
    if not recipient or job.status not in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED):
        return False
    language = job.event.language
    with translation.override(language):
        context = {
            "job": job,
            "event": job.event,
            "is_completed": job.status == ImportJob.Status.COMPLETED,
            "report_url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("admin:participants_importjob_change", args=[job.pk]),
        }
        subject = render_to_string(f"emails/import_finished_subject.{language}.txt", context)
        body = render_to_string(f"emails/import_finished.{language}.txt", context)
    EmailMessage(subject=" ".join(subject.split()), body=body, to=[recipient]).send()
    return True


def notify_import_finished(*, job_id: int) -> None:
    """Tell the organiser who started import `job_id` how it ended (completed or failed).

    Call it when the job has reached its final state; the email goes out after the caller's
    transaction commits, from a task that retries while the SMTP server is unreachable.
    """
    transaction.on_commit(lambda: current_app.signature(SEND_IMPORT_NOTIFICATION_TASK, args=(job_id,)).apply_async())
