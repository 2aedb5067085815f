"""Counting scans into the statistics: mark scans, fold them into the counters, sweep in refusals.

Counting is two steps. `enqueue_scan` marks a scan as to-be-counted (one idempotent insert,
cheap enough to run per outbox row inside the relay's transaction); `apply_pending` then folds
every marked scan of an event into the counters with a handful of set-based statements, under
the event's EventCounter row lock (`lock_event_counter`), so the sink, the sweeper and
`rebuild_stats` never interleave on one event's counters. Measured: applying each scan inside
the relay (~10 queries) managed ~170 scans/s here; marking costs the relay one insert per row
and the batched apply runs at ~3,000 scans/s (see README, Benchmarks → Dashboard).
"""

import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from analytics import broadcast
from analytics.models import CountedScan, EventCounter, GateCounter, HourlyCounter, Presence
from analytics.selectors import NOT_AT_A_GATE
from attendance.models import Scan
from events.models import Event

APPLY_BATCH = 5000
METHOD_FIELDS = {method: f"method_{method}" for method in Scan.Method.values}
RESULT_FIELDS = {
    Scan.Result.ACCEPTED: "scans_accepted",
    Scan.Result.DUPLICATE: "scans_duplicate",
    Scan.Result.REJECTED: "scans_rejected",
}


def local_hour_start(moment: datetime, tz) -> datetime:
    """The start of the hour `moment` falls in, on the event's own clock."""
    return moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)


def lock_event_counter(event_id: int) -> EventCounter:
    """Lock the event's counter row (created if missing) until the caller's transaction ends.

    Every writer of an event's statistics (apply, refusal sweep, rebuild, alert checks) takes
    this lock first, so they never interleave on one event's counters and never deadlock.
    """
    counter = EventCounter.objects.select_for_update().filter(pk=event_id).first()
    if counter is not None:
        return counter
    # ON CONFLICT DO NOTHING: creating the row is safe when two writers race to be first.
    EventCounter.objects.bulk_create([EventCounter(event_id=event_id)], ignore_conflicts=True)
    return EventCounter.objects.select_for_update().get(pk=event_id)


def counted_gate_id(scan: Scan) -> int | None:
    """The gate whose counters a scan counts in: none for a scan refused for being at no gate of the device's."""
    return None if scan.reason in NOT_AT_A_GATE else scan.gate_id


def _later(moment: datetime):
    # Coalesce first: SQLite's GREATEST (MAX) is NULL when any argument is.
    return Greatest(Coalesce(F("last_scan_at"), Value(moment)), Value(moment))


def _add(model, lookup: dict, deltas: Counter, last_scan_at: datetime | None = None, **create_fields) -> None:
    """counter row += deltas (created if missing); safe because the caller holds the event lock."""
    changes = {name: F(name) + n for name, n in deltas.items() if n}
    if last_scan_at is not None:
        changes["last_scan_at"] = _later(last_scan_at)
    if not changes or model.objects.filter(**lookup).update(**changes):
        return
    model.objects.create(**lookup, **create_fields, **dict(deltas), **({"last_scan_at": last_scan_at} if last_scan_at else {}))


def enqueue_scan(*, scan_uuid: str) -> bool:
    """Mark the stored scan with this client scan id as to-be-counted; False if unknown or already marked.

    One statement, idempotent: what an outbox sink can afford per row.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CountedScan._meta.db_table} (scan_id, event_id, is_applied) "  # noqa: S608 - table names from models
            f"SELECT id, event_id, %s FROM {Scan._meta.db_table} WHERE scan_id = %s "
            "ON CONFLICT (scan_id) DO NOTHING",
            # The column's own database form: a uuid on Postgres, 32 hex digits on SQLite.
            [False, Scan._meta.get_field("scan_id").get_db_prep_value(uuid.UUID(scan_uuid), connection)],
        )
        return cursor.rowcount == 1


def enqueue_uncounted_scans(*, event: Event, limit: int = APPLY_BATCH) -> int:
    """Mark the event's stored scans that no outbox row brought (refusals are not published).

    Only scans received ANALYTICS_SWEEP_GRACE_SECONDS ago or earlier: younger ones may still be
    on their way through the relay, whose marks would otherwise race these (a deadlock, seen
    in the bench at 200 scans/s). At most `limit` per call, so a backlog (an event whose
    statistics start late) is worked off in bounded steps instead of holding a worker.
    """
    settled = timezone.now() - timedelta(seconds=settings.ANALYTICS_SWEEP_GRACE_SECONDS)
    uncounted = (
        Scan.objects.filter(event=event, received_at__lte=settled)
        .filter(~Exists(CountedScan.objects.filter(scan_id=OuterRef("pk"))))
        .order_by("pk")
    )
    marks = [
        CountedScan(scan_id=pk, event_id=event.pk, is_applied=False) for pk in uncounted.values_list("pk", flat=True)[:limit]
    ]
    CountedScan.objects.bulk_create(marks, ignore_conflicts=True, batch_size=2000)
    return len(marks)


def apply_pending(*, event_id: int, touched_gate_ids: set[int] | None = None) -> int:
    """Fold every marked, not yet applied scan of the event into its counters; return how many.

    Each scan is applied exactly once (its mark flips in the same transaction). Order-tolerant:
    a participant's state follows their latest scan by (device time, id), so an older scan
    arriving late (an offline batch) does not overwrite a newer one. The gates the applied
    scans were made at are added to `touched_gate_ids` when given. The event's dashboards are
    pinged once after the commits, however many batches it took.
    """
    applied = 0
    with broadcast.one_ping_per_event():
        while True:
            with transaction.atomic():
                lock_event_counter(event_id)
                # Two indexed steps (the partial pending index, then primary keys): a join ordered by
                # scan id let the planner walk every scan of the event on each batch.
                pending = list(
                    CountedScan.objects.filter(event_id=event_id, is_applied=False)
                    .order_by("scan_id")
                    .values_list("scan_id", flat=True)[:APPLY_BATCH]
                )
                scans = list(Scan.objects.filter(pk__in=pending).select_related("event").order_by("pk")) if pending else []
                if not scans:
                    break
                _apply_batch(event_id, scans)
                if touched_gate_ids is not None:
                    touched_gate_ids.update(gate_id for scan in scans if (gate_id := counted_gate_id(scan)) is not None)
                CountedScan.objects.filter(scan_id__in=[scan.pk for scan in scans]).update(is_applied=True)
                applied += len(scans)
                broadcast.stats_changed_on_commit(event_id=event_id)
            if len(scans) < APPLY_BATCH:
                break
    return applied


def _apply_batch(event_id: int, scans: list[Scan]) -> None:
    tz = scans[0].event.tzinfo
    totals: Counter = Counter()
    gates: dict[int, Counter] = defaultdict(Counter)
    gate_last: dict[int, datetime] = {}
    hours: Counter = Counter()
    by_participant: dict[int, list[Scan]] = defaultdict(list)
    for scan in scans:
        accepted = scan.result == Scan.Result.ACCEPTED
        totals["scans_total"] += 1
        totals[RESULT_FIELDS[scan.result]] += 1
        if accepted:
            totals[METHOD_FIELDS[scan.method]] += 1
            totals["entries" if scan.direction == Scan.Direction.ENTRY else "exits"] += 1
            hours[(local_hour_start(scan.scanned_at, tz), scan.gate_id, scan.method, scan.direction)] += 1
            if scan.participant_id is not None:
                by_participant[scan.participant_id].append(scan)
        gate_id = counted_gate_id(scan)
        if gate_id is not None:
            gates[gate_id]["scans_total"] += 1
            gates[gate_id][RESULT_FIELDS[scan.result]] += 1
            if accepted:
                gates[gate_id][METHOD_FIELDS[scan.method]] += 1
            gate_last[gate_id] = max(gate_last.get(gate_id, scan.scanned_at), scan.scanned_at)

    totals.update(_move_presences(event_id, by_participant))
    _add(EventCounter, {"event_id": event_id}, totals, max(scan.scanned_at for scan in scans))
    for gate_id, deltas in gates.items():
        _add(GateCounter, {"gate_id": gate_id}, deltas, gate_last[gate_id], event_id=event_id)
    for (hour_start, gate_id, method, direction), n in hours.items():
        cell = {"event_id": event_id, "hour_start": hour_start, "gate_id": gate_id, "method": method, "direction": direction}
        _add(HourlyCounter, cell, Counter(count=n))


def _move_presences(event_id: int, by_participant: dict[int, list[Scan]]) -> Counter:
    """Update participants' presence from their accepted scans; return the checked_in / inside_now deltas."""
    deltas: Counter = Counter()
    if not by_participant:
        return deltas
    existing = {p.participant_id: p for p in Presence.objects.filter(participant_id__in=list(by_participant))}
    created, changed = [], []
    for participant_id, scans in by_participant.items():
        presence = existing.get(participant_id)
        was_checked_in = presence is not None and presence.first_entry_at is not None
        was_inside = presence is not None and presence.is_inside
        if presence is None:
            first = scans[0]
            presence = Presence(
                event_id=event_id, participant_id=participant_id, last_scanned_at=first.scanned_at, last_scan_pk=-1
            )
            created.append(presence)
        else:
            changed.append(presence)
        for scan in scans:
            is_entry = scan.direction == Scan.Direction.ENTRY
            if is_entry and (presence.first_entry_at is None or scan.scanned_at < presence.first_entry_at):
                presence.first_entry_at = scan.scanned_at
            if (scan.scanned_at, scan.pk) > (presence.last_scanned_at, presence.last_scan_pk):
                presence.is_inside = is_entry
                presence.last_scanned_at, presence.last_scan_pk = scan.scanned_at, scan.pk
        deltas["checked_in"] += int(presence.first_entry_at is not None) - int(was_checked_in)
        deltas["inside_now"] += int(presence.is_inside) - int(was_inside)
    Presence.objects.bulk_create(created, batch_size=2000)
    Presence.objects.bulk_update(changed, ["first_entry_at", "is_inside", "last_scanned_at", "last_scan_pk"], batch_size=2000)
    return deltas


def apply_uncounted_scans(*, event: Event) -> int:
    """Count the event's stored scans that no outbox row brought (e.g. refusals), and anything pending."""
    with transaction.atomic():
        # The counter lock first, as count_refusals and rebuild_event_stats take it: marks inserted
        # before waiting for it could deadlock with a holder inserting the same marks.
        lock_event_counter(event.pk)
        enqueue_uncounted_scans(event=event)
        return apply_pending(event_id=event.pk)


def events_with_uncounted_refusals() -> list[int]:
    """Ids of published or live events with a stored refusal not yet counted (one read, no lock)."""
    return list(
        _uncounted_refusals(Scan.objects.filter(event__status__in=[Event.Status.PUBLISHED, Event.Status.LIVE]))
        # Without order_by(), Scan's default ordering (scanned_at) joins the DISTINCT and an event
        # comes back once per refusal time: the sweep would then count the same event again and again.
        .order_by()
        .values_list("event_id", flat=True)
        .distinct()
    )


def _uncounted_refusals(scans):
    return scans.exclude(result=Scan.Result.ACCEPTED).filter(~Exists(CountedScan.objects.filter(scan_id=OuterRef("pk"))))


def count_refusals(*, event_id: int) -> int:
    """Count the event's stored refusals now, however young; ping its dashboards if any were counted.

    Refusals are stored without an outbox row, so this sweep is how they reach the counters.
    Unlike `enqueue_uncounted_scans` it needs no grace period: the grace keeps the sweep from
    marking accepted scans that the relay is marking at the same time (two transactions
    inserting the same marks in different orders deadlocked), and the relay never marks a
    refusal, so these marks never meet the relay's. The counter lock is taken before marking,
    the order `rebuild_stats` takes them in, so the two cannot deadlock either. Returns how
    many scans were applied (pending accepted ones included).
    """
    with transaction.atomic():
        lock_event_counter(event_id)
        refusals = _uncounted_refusals(Scan.objects.filter(event_id=event_id)).order_by("pk")
        marks = [
            CountedScan(scan_id=pk, event_id=event_id, is_applied=False)
            for pk in refusals.values_list("pk", flat=True)[:APPLY_BATCH]
        ]
        CountedScan.objects.bulk_create(marks, ignore_conflicts=True, batch_size=2000)
        return apply_pending(event_id=event_id)


def sweep_refusals() -> int:
    """Count every published or live event's uncounted refusals (see `count_refusals`); run every
    ANALYTICS_REFUSAL_SWEEP_SECONDS by beat, or in-process in the embedded mode (analytics.sweeper).
    Each event with new counts is pinged once for the pass."""
    with broadcast.one_ping_per_event():
        return sum(count_refusals(event_id=event_id) for event_id in events_with_uncounted_refusals())
