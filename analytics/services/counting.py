"""Writes of the statistics: count scans into the counters, rebuild them from Scan, raise and resolve alerts.

Counting is two steps. `enqueue_scan` marks a scan as to-be-counted (one idempotent insert,
cheap enough to run per outbox row inside the relay's transaction); `apply_pending` then folds
every marked scan of an event into the counters with a handful of set-based statements, under
the event's EventCounter row lock, so the sink, the sweeper and `rebuild_stats` never interleave
on one event's counters. Measured: applying each scan inside the relay (~10 queries) managed
~170 scans/s here; marking costs the relay one insert per row and the batched apply runs at
~3,000 scans/s (see README, Benchmarks → Dashboard).
"""

import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Coalesce, Greatest, TruncHour
from django.utils import timezone

from analytics import broadcast
from analytics.models import Alert, CountedScan, EventCounter, GateCounter, HourlyCounter, Presence
from analytics.selectors import LOAD_WINDOW, NOT_AT_A_GATE, at_a_gate, registered_count
from attendance.models import Scan
from events.errors import DomainError
from events.models import Event, Membership
from gates.models import Gate
from integrations.outbox import Topic, publish

logger = logging.getLogger(__name__)

APPLY_BATCH = 5000
METHOD_FIELDS = {method: f"method_{method}" for method in Scan.Method.values}
RESULT_FIELDS = {
    Scan.Result.ACCEPTED: "scans_accepted",
    Scan.Result.DUPLICATE: "scans_duplicate",
    Scan.Result.REJECTED: "scans_rejected",
}
# Who may resolve alerts from the dashboard; viewers only watch.
RESOLVER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER, Membership.Role.STAFF})


class AlertNotFound(DomainError):
    code = "alert_not_found"
    http_status = 404


class NotAllowedToResolve(DomainError):
    code = "permission_denied"
    http_status = 403


def local_hour_start(moment: datetime, tz) -> datetime:
    """The start of the hour `moment` falls in, on the event's own clock."""
    return moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)


def _lock_counter(event_id: int) -> EventCounter:
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
    scans were made at are added to `touched_gate_ids` when given.
    """
    applied = 0
    while True:
        with transaction.atomic():
            _lock_counter(event_id)
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
        # The counter lock first, as count_refusals and rebuild_stats take it: marks inserted
        # before waiting for it could deadlock with a holder inserting the same marks.
        _lock_counter(event.pk)
        enqueue_uncounted_scans(event=event)
        applied = apply_pending(event_id=event.pk)
    if applied:
        transaction.on_commit(lambda: broadcast.stats_changed(event_id=event.pk))
    return applied


def events_with_uncounted_refusals() -> list[int]:
    """Ids of published or live events with a stored refusal not yet counted (one read, no lock)."""
    return list(
        _uncounted_refusals(Scan.objects.filter(event__status__in=[Event.Status.PUBLISHED, Event.Status.LIVE]))
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
        _lock_counter(event_id)
        refusals = _uncounted_refusals(Scan.objects.filter(event_id=event_id)).order_by("pk")
        marks = [
            CountedScan(scan_id=pk, event_id=event_id, is_applied=False)
            for pk in refusals.values_list("pk", flat=True)[:APPLY_BATCH]
        ]
        CountedScan.objects.bulk_create(marks, ignore_conflicts=True, batch_size=2000)
        applied = apply_pending(event_id=event_id)
    if applied:
        broadcast.stats_changed(event_id=event_id)
    return applied


def sweep_refusals() -> int:
    """Count every published or live event's uncounted refusals (see `count_refusals`); run every
    ANALYTICS_REFUSAL_SWEEP_SECONDS by beat, or in-process in the embedded mode (analytics.sweeper)."""
    return sum(count_refusals(event_id=event_id) for event_id in events_with_uncounted_refusals())


# Per process, throttles only (the periodic task is the backstop): refusals are stored without
# an outbox row and swept in this often; alert rules are evaluated at most this often per event.
UNCOUNTED_SWEEP_SECONDS = 5.0
LOW_ATTENDANCE_CHECK_SECONDS = 30.0
_throttles: dict[tuple[str, int], float] = {}


def _due(name: str, event_id: int, seconds: float) -> bool:
    now = time.monotonic()
    if now - _throttles.get((name, event_id), float("-inf")) < seconds:
        return False
    _throttles[(name, event_id)] = now
    return True


def refresh_event_stats(*, event_id: int) -> int:
    """After scans were marked: apply them, sweep in unpublished refusals now and then, check alerts, ping.

    Returns how many scans were applied.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    if _due("sweep", event_id, UNCOUNTED_SWEEP_SECONDS):
        enqueue_uncounted_scans(event=event)
    gate_ids: set[int] = set()
    applied = apply_pending(event_id=event_id, touched_gate_ids=gate_ids)
    if applied:
        # The numbers first; alerts follow (a raised alert pings again through its own outbox row).
        broadcast.stats_changed(event_id=event_id)
        # Once per batch, for the gates that just scanned: bounded by relay commits, not by scans.
        check_alerts(
            event=event,
            gate_ids=gate_ids,
            low_attendance=_due("low-attendance", event_id, LOW_ATTENDANCE_CHECK_SECONDS),
        )
    return applied


# --- Rebuild --------------------------------------------------------------------------


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
                counter = _lock_counter(event.pk)
                result = _rebuild_locked(event, counter)
            transaction.on_commit(lambda: broadcast.stats_changed(event_id=event.pk))
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


# --- Alerts ---------------------------------------------------------------------------


def gate_load(*, gate: Gate, now: datetime) -> tuple[int, float]:
    """Scans at the gate in the last five minutes, and load = that / (capacity per minute × 5)."""
    recent = at_a_gate(Scan.objects.filter(gate=gate, scanned_at__gt=now - LOAD_WINDOW, scanned_at__lte=now)).count()
    return recent, recent / (gate.capacity_per_minute * LOAD_WINDOW.total_seconds() / 60)


def raise_alert(
    *, event: Event, kind: str, subject: str, gate: Gate | None, value: float, threshold: float, message: str, now: datetime
) -> Alert | None:
    """Raise an alert unless one is open for the subject or one was raised within the cooldown.

    An open alert is refreshed (value, last seen) instead of repeated; a new one is published
    as `alert.raised` in the caller's transaction. Returns the new alert, or None.
    """
    open_alert = Alert.objects.filter(event=event, kind=kind, subject=subject, resolved_at__isnull=True).first()
    if open_alert is not None:
        Alert.objects.filter(pk=open_alert.pk).update(last_seen_at=now, value=value)
        return None
    cooldown = timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS)
    if Alert.objects.filter(event=event, kind=kind, subject=subject, raised_at__gt=now - cooldown).exists():
        return None
    alert = Alert.objects.create(
        event=event,
        kind=kind,
        subject=subject,
        gate=gate,
        value=value,
        threshold=threshold,
        message=message,
        raised_at=now,
        last_seen_at=now,
    )
    publish(
        topic=Topic.ALERT_RAISED,
        event_id=event.pk,
        organization_id=event.organization_id,
        payload={
            "alertId": alert.pk,
            "event": event.slug,
            "kind": kind,
            "gateId": gate.code if gate else None,
            "value": round(value, 4),
            "threshold": threshold,
            "message": message,
            "raisedAt": now,
        },
    )
    return alert


def check_gate_overload(*, gate: Gate, now: datetime) -> Alert | None:
    event = gate.event
    recent, load = gate_load(gate=gate, now=now)
    if load <= event.gate_overload_threshold:
        return None
    return raise_alert(
        event=event,
        kind=Alert.Kind.GATE_OVERLOAD,
        subject=f"gate:{gate.pk}",
        gate=gate,
        value=load,
        threshold=event.gate_overload_threshold,
        message=f"{gate.name}: {recent} scans in 5 min, {load:.0%} of capacity ({gate.capacity_per_minute}/min).",
        now=now,
    )


def check_low_attendance(*, event: Event, now: datetime) -> Alert | None:
    """Low attendance counts only once half the event's duration has passed (early on every event is 'low')."""
    halfway = event.starts_at + (event.ends_at - event.starts_at) / 2
    if not (halfway <= now <= event.ends_at):
        return None
    registered = registered_count(event=event)
    if registered == 0:
        return None
    checked_in = EventCounter.objects.filter(pk=event.pk).values_list("checked_in", flat=True).first() or 0
    rate = checked_in / registered
    if rate >= event.low_attendance_threshold:
        return None
    return raise_alert(
        event=event,
        kind=Alert.Kind.LOW_ATTENDANCE,
        subject="event",
        gate=None,
        value=rate,
        threshold=event.low_attendance_threshold,
        message=f"Only {checked_in} of {registered} registered ({rate:.0%}) have arrived past the event's halfway point.",
        now=now,
    )


def check_alerts(
    *, event: Event, now: datetime | None = None, gate_ids: set[int] | None = None, low_attendance: bool = True
) -> list[Alert]:
    """Evaluate the alert rules: the load of the event's active gates (or of `gate_ids`), and attendance unless told not to."""
    now = now or timezone.now()
    raised = []
    with transaction.atomic():
        _lock_counter(event.pk)
        gates = Gate.objects.filter(event=event, is_active=True)
        for gate in gates if gate_ids is None else gates.filter(pk__in=gate_ids):
            gate.event = event
            raised.append(check_gate_overload(gate=gate, now=now))
        if low_attendance:
            raised.append(check_low_attendance(event=event, now=now))
    raised = [alert for alert in raised if alert is not None]
    if raised:
        transaction.on_commit(lambda: broadcast.stats_changed(event_id=event.pk))
    return raised


def resolve_alert(*, alert_id: int, event: Event, user) -> Alert:
    """Mark an open alert resolved by `user` (owner, manager or staff of the event's organization)."""
    is_resolver = Membership.objects.filter(user=user, organization_id=event.organization_id, role__in=RESOLVER_ROLES).exists()
    if not (user.is_superuser or is_resolver):
        raise NotAllowedToResolve("Only owners, managers and staff of the organization resolve alerts.")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id, event=event).first()
        if alert is None:
            raise AlertNotFound("No such alert for this event.", details={"alertId": alert_id})
        if alert.resolved_at is None:
            alert.resolved_at = timezone.now()
            alert.resolved_by = user
            alert.save(update_fields=["resolved_at", "resolved_by"])
            transaction.on_commit(lambda: broadcast.stats_changed(event_id=event.pk))
    return alert
