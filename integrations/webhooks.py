"""Signed webhooks: from outbox rows to deliveries, and from deliveries to HTTP attempts.

Contract:
- `sink(outbox_row)` is an OUTBOX_SINKS entry: inside the relay's transaction it creates one
  pending delivery per active endpoint of the row's organization that wants the topic, and
  kicks the sender after the commit. A relayed row therefore has its deliveries, exactly once.
- `deliver_due(...)` sends what is due. Deliveries to one endpoint for one Gatehouse event go
  out strictly in outbox order: a delivery is sent only when every earlier one of its stream
  has succeeded or failed. (The stream is endpoint + event, the outbox's own ordering scope, so
  one event's failing payload does not hold back another event's webhooks.)
- Each attempt is signed per Standard Webhooks (webhook-id, webhook-timestamp,
  webhook-signature `v1,<base64 HMAC-SHA256 of id.timestamp.body>`) with the `standardwebhooks`
  reference library; the webhook-id stays the same across retries so receivers can deduplicate.
- A 2xx is success; anything else, a timeout, a refused or unreachable destination is a failed
  attempt, retried after settings.WEBHOOK_RETRY_SCHEDULE_SECONDS (stored in next_attempt_at and
  picked up by the beat sweep, never a Celery countdown), then the delivery fails. An endpoint
  with no success for settings.WEBHOOK_DISABLE_AFTER_SECONDS is disabled and the owners of its
  organization are emailed; its pending deliveries wait and resume, in order, when re-enabled.

Delivery is at least once: a worker that dies after the receiver answered but before the
result is stored sends again (same webhook-id) when the claim expires.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from standardwebhooks import Webhook

from events.models import Membership
from integrations.destinations import DestinationRefused, guarded_session
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, generate_webhook_secret
from integrations.outbox import OutboxEvent

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Gatehouse-Webhooks/1"


def _claim_seconds() -> float:
    # A claimed delivery is invisible to other senders until the attempt can no longer be running.
    return settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOK_READ_TIMEOUT_SECONDS + 30


# --- from the outbox ----------------------------------------------------------------------


def webhook_id_for(outbox_row: OutboxEvent) -> str:
    return f"msg_{outbox_row.pk}"


def sink(row: OutboxEvent) -> None:
    """OUTBOX_SINKS entry: queue the row for every active endpoint that wants it (inside the relay transaction)."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organization_id=row.organization_id, is_active=True)
        if endpoint.wants(row.topic)
    ]
    if not endpoints:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                outbox_event=row,
                event_id=row.event_id,
                topic=row.topic,
                webhook_id=webhook_id_for(row),
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(kick_sender, robust=True)


def kick_sender() -> None:
    """Ask a worker to send what is due, from a background thread; a lost kick only waits for the beat sweep."""
    from integrations.kick import webhook_kicker

    webhook_kicker.kick()


# --- the message --------------------------------------------------------------------------


def message_body(outbox_row: OutboxEvent) -> bytes:
    """The JSON body (Standard Webhooks shape: type, timestamp, data); the same bytes on every retry."""
    document = {"type": outbox_row.topic, "timestamp": outbox_row.created_at, "data": outbox_row.payload}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def signed_headers(*, secret: str, webhook_id: str, body: bytes, at) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body.decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptResult:
    is_success: bool
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str


def _post(session: requests.Session, *, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
    started = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_READ_TIMEOUT_SECONDS),
            # A redirect could point anywhere, the private network included: it counts as a failure.
            allow_redirects=False,
            stream=True,
        )
        with response:
            status_code = response.status_code
            raw = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
            excerpt = raw.decode("utf-8", errors="replace")
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except DestinationRefused as exc:
        error = f"destination refused: {exc}"
    except requests.Timeout:
        error = "timeout"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - started) * 1000)
    return AttemptResult(
        is_success=not error, status_code=status_code, latency_ms=latency_ms, response_excerpt=excerpt, error=error[:500]
    )


def _due_heads(*, exclude: set[int], limit: int) -> list[int]:
    """Due deliveries that are the oldest pending one of their (endpoint, event) stream, most overdue first."""
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    if connection.vendor == "postgresql":
        # One pass over the partial index (endpoint, event_id, id): the first row of each stream.
        heads = pending.order_by("endpoint_id", "event_id", "id").distinct("endpoint_id", "event_id")
        candidates = WebhookDelivery.objects.filter(pk__in=heads.values("pk"))
    else:
        earlier = pending.filter(endpoint_id=OuterRef("endpoint_id"), event_id=OuterRef("event_id"), id__lt=OuterRef("id"))
        candidates = pending.exclude(Exists(earlier))
    return list(
        candidates.filter(next_attempt_at__lte=timezone.now(), endpoint__is_active=True)
        .exclude(pk__in=exclude)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def _next_in_stream(delivery: WebhookDelivery) -> int | None:
    """The delivery after `delivery` in its stream, if it is now the stream's due head."""
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            status=WebhookDelivery.Status.PENDING,
            endpoint__is_active=True,
        )
        .order_by("id")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if following is None or following[1] > timezone.now():
        return None
    return following[0]


def _claim(delivery_id: int) -> bool:
    """Take a due delivery for one attempt; False if another sender has it or it is not due."""
    now = timezone.now()
    # Only the row's own columns in the WHERE: Postgres re-checks them after waiting for a
    # concurrent claim's row lock. A join (endpoint__is_active) becomes an IN (subquery) that is
    # not re-checked, and two senders would both win the same delivery.
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=now + timedelta(seconds=_claim_seconds())
        )
    )


def deliver_due(*, limit: int = 200) -> int:
    """Attempt up to `limit` due deliveries, in order within each stream; return how many were tried."""
    tried: set[int] = set()
    session = guarded_session()
    try:
        while len(tried) < limit:
            heads = _due_heads(exclude=tried, limit=limit - len(tried))
            if not heads:
                break
            for delivery_id in heads:
                # Follow the stream while it succeeds; each delivery at most once per call, so a
                # failure waits for its schedule instead of busy-looping.
                next_id: int | None = delivery_id
                while next_id is not None and next_id not in tried and len(tried) < limit:
                    tried.add(next_id)
                    if not _claim(next_id):
                        break
                    attempt = attempt_delivery(delivery_id=next_id, session=session)
                    if not attempt.is_success:
                        break
                    next_id = _next_in_stream(attempt.delivery)
    finally:
        session.close()
    return len(tried)


def attempt_delivery(*, delivery_id: int, session: requests.Session | None = None) -> WebhookAttempt:
    """One HTTP attempt of a claimed delivery, with its outcome stored; no database transaction is held during HTTP."""
    delivery = WebhookDelivery.objects.select_related("endpoint", "outbox_event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = message_body(delivery.outbox_event)
    attempted_at = timezone.now()
    headers = signed_headers(secret=endpoint.secret, webhook_id=delivery.webhook_id, body=body, at=attempted_at)
    own_session = session is None
    session = session or guarded_session()
    try:
        result = _post(session, url=endpoint.url, headers=headers, body=body)
    finally:
        if own_session:
            session.close()
    return _record(delivery=delivery, attempted_at=attempted_at, result=result)


def _next_status(*, attempts: int) -> tuple[str, object]:
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_SECONDS
    if attempts > len(schedule):
        return WebhookDelivery.Status.FAILED, timezone.now()
    return WebhookDelivery.Status.PENDING, timezone.now() + timedelta(seconds=schedule[attempts - 1])


def _record(*, delivery: WebhookDelivery, attempted_at, result: AttemptResult) -> WebhookAttempt:
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_excerpt=result.response_excerpt,
            error=result.error,
            is_success=result.is_success,
        )
        attempts = delivery.attempts + 1
        changes = {
            "attempts": attempts,
            "last_attempt_at": attempted_at,
            "last_status_code": result.status_code,
            "last_latency_ms": result.latency_ms,
            "last_response_excerpt": result.response_excerpt,
            "last_error": result.error,
        }
        if result.is_success:
            changes.update(status=WebhookDelivery.Status.SUCCEEDED, succeeded_at=timezone.now(), next_attempt_at=None)
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(failing_since=None)
        else:
            status, next_attempt_at = _next_status(attempts=attempts)
            changes.update(status=status, next_attempt_at=next_attempt_at if status == WebhookDelivery.Status.PENDING else None)
            _note_endpoint_failure(endpoint_id=delivery.endpoint_id, failed_at=attempted_at)
            logger.info(
                "webhook %s to endpoint %s failed (attempt %s): %s",
                delivery.webhook_id,
                delivery.endpoint_id,
                attempts,
                result.error,
            )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return attempt


def _note_endpoint_failure(*, endpoint_id: int, failed_at) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.failing_since is None:
        endpoint.failing_since = failed_at
        endpoint.save(update_fields=["failing_since", "updated_at"])
        return
    failing_for = failed_at - endpoint.failing_since
    if endpoint.is_active and failing_for.total_seconds() >= settings.WEBHOOK_DISABLE_AFTER_SECONDS:
        disable_endpoint(endpoint=endpoint, reason=f"Every attempt failed for {_humanize(failing_for)}.")


def _humanize(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours >= 1 else f"{int(duration.total_seconds())} seconds"


def disable_endpoint(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to `endpoint` (pending deliveries wait) and email its organization's owners after the commit."""
    endpoint.is_active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    transaction.on_commit(lambda: _email_owners(endpoint_id=endpoint.pk), robust=True)


def _email_owners(*, endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)
    recipients = sorted(
        set(
            Membership.objects.filter(organization_id=endpoint.organization_id, role=Membership.Role.OWNER)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not recipients:
        logger.warning("webhook endpoint %s disabled and its organization has no owner with an email", endpoint.pk)
        return
    send_mail(
        subject=f"[Gatehouse] Webhook endpoint disabled: {endpoint.url}",
        message=(
            f"The webhook endpoint {endpoint.url} of {endpoint.organization} has been disabled.\n\n"
            f"{endpoint.disabled_reason}\nLast failure since: {endpoint.failing_since:%Y-%m-%d %H:%M} UTC.\n\n"
            "Events are kept: fix the receiver, then tick 'active' on the endpoint in the admin and\n"
            "the waiting deliveries are sent in order.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def enable_endpoint(*, endpoint: WebhookEndpoint) -> None:
    """Resume sending: waiting deliveries become due now, in order."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=True, disabled_at=None, disabled_reason="", failing_since=None, updated_at=timezone.now()
        )
        WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=timezone.now()
        )
    transaction.on_commit(kick_sender, robust=True)


def redeliver(*, deliveries) -> int:
    """Queue the given deliveries again (same webhook-id, fresh retry schedule); return how many."""
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), succeeded_at=None
        )
    transaction.on_commit(kick_sender, robust=True)
    return count


def rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give `endpoint` a new secret; every later attempt, retries included, is signed with it."""
    endpoint.secret = generate_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret
