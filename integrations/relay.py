"""The outbox relay: hands committed domain events, in order per event, to the sinks.

Each pass runs in one database transaction under a lock that only one relay can hold
(a Postgres advisory lock; a process lock on SQLite), so relays running twice at once do no
harm. Sinks (settings.OUTBOX_SINKS) run inside that transaction and must only write to the
database or defer side effects with `transaction.on_commit`: a row is marked relayed in the
same commit as its sinks' writes, so database effects happen exactly once and external ones
(webhook calls, websocket pushes) at least once. A failing sink stops its event's stream (to
keep the order) and the row is retried on the next pass.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.outbox import OutboxEvent

logger = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x6761746568  # "gateh": an arbitrary, fixed advisory-lock id
_process_lock = threading.Lock()


def _sinks():
    return [import_string(path) for path in settings.OUTBOX_SINKS]


def _try_lock() -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
            return cursor.fetchone()[0]
    return True


def relay_pending(*, batch_size: int = 500) -> int:
    """Relay up to `batch_size` pending rows; return how many were relayed (0 if another relay holds the lock)."""
    relayed, _locked_out = _relay_once(batch_size)
    return relayed


def _relay_once(batch_size: int) -> tuple[int, bool]:
    if connection.vendor != "postgresql" and not _process_lock.acquire(blocking=False):
        return 0, True
    try:
        return _relay_batch(batch_size)
    finally:
        if connection.vendor != "postgresql":
            _process_lock.release()


def _relay_batch(batch_size: int) -> tuple[int, bool]:
    sinks = _sinks()
    with transaction.atomic():
        if not _try_lock():
            return 0, True
        rows = list(OutboxEvent.objects.filter(relayed_at__isnull=True).order_by("id")[:batch_size])
        if not rows:
            return 0, False
        now = timezone.now()
        # Fast path: the whole batch in one savepoint and one UPDATE. Only if a sink fails is the
        # batch replayed row by row, to isolate the failing event's stream.
        try:
            with transaction.atomic():
                for row in rows:
                    for sink in sinks:
                        sink(row)
                OutboxEvent.objects.filter(pk__in=[row.pk for row in rows]).update(
                    relayed_at=now, attempts=F("attempts") + 1, last_error=""
                )
            return len(rows), False
        except Exception:
            logger.warning("outbox relay: a sink failed in a batch of %s rows; retrying row by row", len(rows))
        return _relay_rows_one_by_one(rows, sinks, now), False


def _relay_rows_one_by_one(rows: list[OutboxEvent], sinks, now) -> int:
    relayed = 0
    blocked_events: set[int] = set()
    for row in rows:
        if row.event_id in blocked_events:
            continue
        try:
            with transaction.atomic():
                for sink in sinks:
                    sink(row)
                OutboxEvent.objects.filter(pk=row.pk).update(relayed_at=now, attempts=row.attempts + 1, last_error="")
            relayed += 1
        except Exception as exc:  # a sink failure must not stop other events' streams
            logger.exception("outbox relay: %s #%s failed", row.topic, row.pk)
            blocked_events.add(row.event_id)
            OutboxEvent.objects.filter(pk=row.pk).update(
                attempts=row.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
            )
    return relayed


def relay_all(*, batch_size: int = 500, max_batches: int = 100, lock_wait_seconds: float = 5.0) -> int:
    """Relay until nothing is pending. If another relay holds the lock, wait for it and go again:
    rows committed while that relay ran may be newer than what it read, and this call may be
    the only kick they get."""
    total = 0
    deadline = time.monotonic() + lock_wait_seconds
    for _ in range(max_batches):
        relayed, locked_out = _relay_once(batch_size)
        if locked_out:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
            continue
        total += relayed
        if relayed < batch_size:
            break
    return total


def prune_relayed(*, older_than) -> int:
    """Delete relayed outbox rows created before `older_than` (with their webhook log), keeping any with a pending delivery."""
    from integrations.models import WebhookDelivery

    pending = WebhookDelivery.objects.filter(outbox_event=OuterRef("pk"), status=WebhookDelivery.Status.PENDING)
    deleted, _ = OutboxEvent.objects.filter(relayed_at__isnull=False, created_at__lt=older_than).exclude(Exists(pending)).delete()
    return deleted
