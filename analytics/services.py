"""Writes of the statistics: apply one scan to the counters, rebuild them from Scan, raise and resolve alerts.

Every write for an event first locks that event's EventCounter row, so the relay's sink, the
sweeper and `rebuild_stats` never interleave on one event's counters.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Coalesce, Greatest, TruncHour
from django.utils import timezone

from analytics import broadcast
from analytics.models import Alert, CountedScan, EventCounter, GateCounter, HourlyCounter, Presence
from attendance.models import Scan
from config.errors import DomainError
from events.models import Event, Membership
from gates.models import Gate
from integrations.outbox import Topic, publish
from participants.models import Participant

logger = logging.getLogger(__name__)

LOAD_WINDOW = timedelta(minutes=5)
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
    # ON CONFLICT DO NOTHING: creating the row is safe when two writers race to be first.
    EventCounter.objects.bulk_create([EventCounter(event_id=event_id)], ignore_conflicts=True)
    return EventCounter.objects.select_for_update().get(pk=event_id)


def _later(moment: datetime):
    # Coalesce first: SQLite's GREATEST (MAX) is NULL when any argument is.
    return Greatest(Coalesce(F("last_scan_at"), Value(moment)), Value(moment))


def _increment(queryset, fields: list[str], **extra) -> None:
    queryset.update(**{name: F(name) + 1 for name in fields}, **extra)


def apply_scan(*, scan: Scan) -> bool:
    """Add one stored scan to its event's counters; True if it was applied, False if it already was.

    Idempotent (a scan is counted once however often it is delivered) and order-tolerant:
    an older scan arriving late (an offline batch) does not overwrite a participant's newer state.
    """
    with transaction.atomic():
        _lock_counter(scan.event_id)
        return _apply_locked(scan)


def _apply_locked(scan: Scan) -> bool:
    if CountedScan.objects.filter(pk=scan.pk).exists():
        return False
    CountedScan.objects.create(scan_id=scan.pk, event_id=scan.event_id)

    accepted = scan.result == Scan.Result.ACCEPTED
    event_fields = ["scans_total", RESULT_FIELDS[scan.result]]
    if accepted:
        event_fields += [METHOD_FIELDS[scan.method], "entries" if scan.direction == Scan.Direction.ENTRY else "exits"]
        event_fields += _move_presence(scan)
    _increment(
        EventCounter.objects.filter(pk=scan.event_id),
        event_fields,
        last_scan_at=_later(scan.scanned_at),
        updated_at=timezone.now(),
    )
    if scan.gate_id is not None:
        GateCounter.objects.bulk_create([GateCounter(event_id=scan.event_id, gate_id=scan.gate_id)], ignore_conflicts=True)
        gate_fields = ["scans_total", RESULT_FIELDS[scan.result]] + ([METHOD_FIELDS[scan.method]] if accepted else [])
        _increment(
            GateCounter.objects.filter(gate_id=scan.gate_id),
            gate_fields,
            last_scan_at=_later(scan.scanned_at),
        )
    if accepted:
        cell = {
            "event_id": scan.event_id,
            "hour_start": local_hour_start(scan.scanned_at, scan.event.tzinfo),
            "gate_id": scan.gate_id,
            "method": scan.method,
            "direction": scan.direction,
        }
        # Update-or-create under the event lock: portable where NULL gates are distinct (SQLite).
        if not HourlyCounter.objects.filter(**cell).update(count=F("count") + 1):
            HourlyCounter.objects.create(**cell, count=1)
    return True


def _move_presence(scan: Scan) -> list[str]:
    """Update the participant's presence; return the EventCounter fields that go up by one.

    `inside_now` can also go down, which the caller's increments cannot express, so that
    one is written here.
    """
    if scan.participant_id is None:
        return []
    is_entry = scan.direction == Scan.Direction.ENTRY
    presence = Presence.objects.filter(participant_id=scan.participant_id).first()
    if presence is None:
        Presence.objects.create(
            event_id=scan.event_id,
            participant_id=scan.participant_id,
            first_entry_at=scan.scanned_at if is_entry else None,
            is_inside=is_entry,
            last_scanned_at=scan.scanned_at,
            last_scan_pk=scan.pk,
        )
        return ["checked_in", "inside_now"] if is_entry else []

    fields: list[str] = []
    if is_entry and presence.first_entry_at is None:
        fields.append("checked_in")
    if is_entry and (presence.first_entry_at is None or scan.scanned_at < presence.first_entry_at):
        presence.first_entry_at = scan.scanned_at
    if (scan.scanned_at, scan.pk) > (presence.last_scanned_at, presence.last_scan_pk):
        if is_entry and not presence.is_inside:
            fields.append("inside_now")
        elif not is_entry and presence.is_inside:
            EventCounter.objects.filter(pk=scan.event_id).update(inside_now=F("inside_now") - 1)
        presence.is_inside = is_entry
        presence.last_scanned_at = scan.scanned_at
        presence.last_scan_pk = scan.pk
    presence.save(update_fields=["first_entry_at", "is_inside", "last_scanned_at", "last_scan_pk"])
    return fields


def apply_uncounted_scans(*, event: Event, limit: int = 5000) -> int:
    """Count the event's stored scans that no outbox row brought (e.g. refusals that are not published)."""
    applied = 0
    with transaction.atomic():
        _lock_counter(event.pk)
        pending = (
            Scan.objects.filter(event=event)
            .filter(~Exists(CountedScan.objects.filter(scan_id=OuterRef("pk"))))
            .select_related("event")
            .order_by("pk")[:limit]
        )
        for scan in pending:
            applied += _apply_locked(scan)
    if applied:
        transaction.on_commit(lambda: broadcast.stats_changed(event_id=event.pk))
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
        scans.filter(gate__isnull=False)
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
            f"INSERT INTO {CountedScan._meta.db_table} (scan_id, event_id) "  # noqa: S608 - table names from models, no input
            f"SELECT id, event_id FROM {Scan._meta.db_table} WHERE event_id = %s",
            [event.pk],
        )
    return RebuildResult(scans=counter.scans_total, checked_in=counter.checked_in, inside_now=counter.inside_now)


# --- Alerts ---------------------------------------------------------------------------


def gate_load(*, gate: Gate, now: datetime) -> tuple[int, float]:
    """Scans at the gate in the last five minutes, and load = that / (capacity per minute × 5)."""
    recent = Scan.objects.filter(gate=gate, scanned_at__gt=now - LOAD_WINDOW, scanned_at__lte=now).count()
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


def registered_count(*, event: Event) -> int:
    return Participant.objects.filter(event=event, status__in=Participant.GOOD_STANDING).count()


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


def check_alerts(*, event: Event, now: datetime | None = None) -> list[Alert]:
    """Evaluate every alert rule for the event (the periodic check; the sink checks the scanned gate)."""
    now = now or timezone.now()
    raised = []
    with transaction.atomic():
        _lock_counter(event.pk)
        for gate in Gate.objects.filter(event=event, is_active=True).select_related("event"):
            raised.append(check_gate_overload(gate=gate, now=now))
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
