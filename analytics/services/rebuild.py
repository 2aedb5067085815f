"""Rebuilding the statistics: recompute every counter of an event from its stored scans (`manage.py rebuild_stats`)."""

import logging
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from analytics import broadcast
from analytics.models import CountedScan, EventCounter, GateCounter, HourlyCounter, Presence
from analytics.selectors import at_a_gate
from analytics.services.counting import METHOD_FIELDS, RESULT_FIELDS, lock_event_counter
from attendance.models import Scan
from events.models import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildResult:
    scans: int
    checked_in: int
    inside_now: int


def rebuild_event_stats(*, event: Event, attempts: int = 5) -> RebuildResult:
    """Recompute every counter of the event from its stored scans, in one consistent snapshot.

    Runs in a REPEATABLE READ transaction holding the event's counter lock: a scan committed
    after the snapshot is neither counted nor marked, so its outbox delivery applies it
    afterwards. A writer that got in between snapshot and lock aborts the attempt; it is retried.
    """
    # Inside a caller's transaction the isolation level is the caller's (it can only be set first).
    outermost = not connection.in_atomic_block
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if outermost and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                counter = lock_event_counter(event.pk)
                result = _rebuild_locked(event, counter)
                broadcast.stats_changed_on_commit(event_id=event.pk)
            return result
        except OperationalError:
            # "could not serialize access due to concurrent update": a sink wrote first; try again.
            if attempt == attempts - 1 or not outermost:
                raise
            logger.info("rebuild_stats for %s raced a writer; retrying", event.slug)
    raise AssertionError("unreachable")


def _rebuild_locked(event: Event, counter: EventCounter) -> RebuildResult:
    scans = Scan.objects.filter(event=event)
    accepted = scans.filter(result=Scan.Result.ACCEPTED)
    for model in (CountedScan, Presence, GateCounter, HourlyCounter):
        model.objects.filter(event=event).delete()

    # Presence, streamed in (participant, time) order: the latest accepted scan decides
    # inside/outside, the earliest accepted entry is the first arrival. Portable (no DISTINCT ON),
    # so the embedded SQLite mode rebuilds too.
    presences: dict[int, Presence] = {}
    rows = (
        accepted.filter(participant__isnull=False)
        .order_by("participant_id", "scanned_at", "pk")
        .values_list("participant_id", "direction", "scanned_at", "pk")
    )
    for participant_id, direction, scanned_at, pk in rows.iterator(chunk_size=5000):
        presence = presences.get(participant_id)
        if presence is None:
            presence = presences[participant_id] = Presence(event=event, participant_id=participant_id)
        is_entry = direction == Scan.Direction.ENTRY
        if is_entry and presence.first_entry_at is None:
            presence.first_entry_at = scanned_at
        presence.is_inside, presence.last_scanned_at, presence.last_scan_pk = is_entry, scanned_at, pk
    Presence.objects.bulk_create(presences.values(), batch_size=2000)

    totals = scans.aggregate(
        scans_total=Count("pk"),
        last_scan_at=Max("scanned_at"),
        **{field: Count("pk", filter=Q(result=result)) for result, field in RESULT_FIELDS.items()},
        **{field: Count("pk", filter=Q(result=Scan.Result.ACCEPTED, method=m)) for m, field in METHOD_FIELDS.items()},
        entries=Count("pk", filter=Q(result=Scan.Result.ACCEPTED, direction=Scan.Direction.ENTRY)),
        exits=Count("pk", filter=Q(result=Scan.Result.ACCEPTED, direction=Scan.Direction.EXIT)),
    )
    presences = Presence.objects.filter(event=event).aggregate(
        checked_in=Count("pk", filter=Q(first_entry_at__isnull=False)), inside_now=Count("pk", filter=Q(is_inside=True))
    )
    for name, value in {**totals, **presences}.items():
        setattr(counter, name, value)
    counter.rebuilt_at = timezone.now()
    counter.save()

    gate_rows = (
        at_a_gate(scans.filter(gate__isnull=False))
        .values("gate_id")
        .annotate(
            scans_total=Count("pk"),
            last_scan_at=Max("scanned_at"),
            **{field: Count("pk", filter=Q(result=result)) for result, field in RESULT_FIELDS.items()},
            **{field: Count("pk", filter=Q(result=Scan.Result.ACCEPTED, method=m)) for m, field in METHOD_FIELDS.items()},
        )
    )
    GateCounter.objects.bulk_create([GateCounter(event=event, **row) for row in gate_rows])

    hourly_rows = (
        accepted.annotate(hour_start=TruncHour("scanned_at", tzinfo=event.tzinfo))
        .values("hour_start", "gate_id", "method", "direction")
        .annotate(count=Count("pk"))
        .order_by()
    )
    HourlyCounter.objects.bulk_create([HourlyCounter(event=event, **row) for row in hourly_rows], batch_size=2000)

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CountedScan._meta.db_table} (scan_id, event_id, is_applied) "  # noqa: S608 - table names from models
            f"SELECT id, event_id, %s FROM {Scan._meta.db_table} WHERE event_id = %s "
            # A mark a relay added after our snapshot: under REPEATABLE READ this aborts the attempt (retried).
            "ON CONFLICT (scan_id) DO UPDATE SET is_applied = EXCLUDED.is_applied",
            [True, event.pk],
        )
    return RebuildResult(scans=counter.scans_total, checked_in=counter.checked_in, inside_now=counter.inside_now)
