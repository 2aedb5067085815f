"""Reads of the statistics: the one snapshot the API, the websocket and the page all serve.

Cumulative numbers come from the counter rows (a few small indexed reads, independent of how
many scans the event has); the five-minute gate windows come from one grouped query over
Scan's (event, scanned_at) index (`gate_loads`, also what the overload alert reads).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, Value, When
from django.utils import timezone

from analytics.models import Alert, EventCounter, GateCounter, HourlyCounter, Presence
from attendance.models import Scan
from events.access import can_view_organization, visible_organization_ids
from events.models import Event
from gates.models import Gate
from participants.models import Participant

LOAD_WINDOW = timedelta(minutes=5)
METHODS = list(Scan.Method.values)
WINDOW_MINUTES = LOAD_WINDOW.total_seconds() / 60
# Above this utilisation the M/M/1 formula explodes; past it the backlog term takes over.
MAX_UTILISATION = 0.95
# Refused before any gate rule because the device is bound to another gate: the scan row keeps the
# gate the device claimed (the audit trail), but nobody was processed at that gate, and which gate
# the person really stood at is a guess (the binding or the claim may be the mistake). Such scans
# count in the event's totals only, never in a gate's counters or load (README, Live dashboard).
NOT_AT_A_GATE = ("gate_not_allowed",)


def at_a_gate(scans):
    """`scans` without those that count at no gate (see NOT_AT_A_GATE)."""
    return scans.exclude(reason__in=NOT_AT_A_GATE)


def member_event(*, user, slug: str) -> Event | None:
    """The event if `user` may watch it (a member of its organization, or a superuser); else None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    event = Event.objects.select_related("organization").filter(slug=slug).first()
    if event is None or not can_view_organization(user, event.organization_id):
        return None
    return event


def watchable_events(*, user):
    """The events whose dashboards `user` may watch (member_event's rule), live ones first, then newest."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Event.objects.none()
    events = Event.objects.all()
    if not user.is_superuser:
        events = events.filter(organization_id__in=visible_organization_ids(user))
    is_live = Case(When(status=Event.Status.LIVE, then=Value(0)), default=Value(1))
    return events.select_related("organization").order_by(is_live, "-starts_at", "pk")


REGISTERED_CACHE_SECONDS = 5


def registered_count(*, event: Event) -> int:
    """Participants in good standing (registered or active): the attendance rate's denominator."""
    return Participant.objects.filter(event=event, status__in=Participant.GOOD_STANDING).count()


def cached_registered_count(*, event: Event) -> int:
    """Registered participants, recounted at most every few seconds (a COUNT over 50,000 rows took
    ~18 ms, half a snapshot); with the cache unreachable it counts directly."""
    try:
        return cache.get_or_set(
            # created_at in the key: a recreated database reuses ids.
            f"analytics:registered:{event.pk}:{event.created_at.timestamp()}",
            lambda: registered_count(event=event),
            REGISTERED_CACHE_SECONDS,
        )
    except Exception:
        return registered_count(event=event)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def estimated_wait_seconds(*, recent_scans: int, capacity_per_minute: int) -> float:
    """Expected queueing time at a gate, from the last five minutes' arrival rate.

    Below capacity: M/M/1 waiting time, ρ/(1−ρ) service times (service time = 60 s / capacity).
    At or above capacity the queue grows: the people beyond capacity in the window, served at
    capacity, plus the M/M/1 wait at the cap.
    """
    if recent_scans == 0:
        return 0.0
    arrival_per_minute = recent_scans / WINDOW_MINUTES
    utilisation = arrival_per_minute / capacity_per_minute
    service_seconds = 60.0 / capacity_per_minute
    capped = min(utilisation, MAX_UTILISATION)
    wait = service_seconds * capped / (1 - capped)
    if utilisation > MAX_UTILISATION:
        backlog = max(0.0, recent_scans - capacity_per_minute * WINDOW_MINUTES * MAX_UTILISATION)
        wait += backlog * service_seconds
    return round(wait, 1)


def gate_status(*, load: float, threshold: float, is_active: bool, recent_scans: int) -> str:
    if not is_active:
        return "inactive"
    if load > threshold:
        return "overloaded"
    if load > threshold * 0.75:
        return "busy"
    return "normal" if recent_scans else "idle"


@dataclass(frozen=True)
class GateLoad:
    """A gate's last LOAD_WINDOW: the one source of its load for the snapshot, the realtime API and the overload alert."""

    recent_scans: int
    capacity_per_minute: int

    @property
    def load(self) -> float:
        """Scans in the window over what the gate can process in it (1.0 = at capacity)."""
        return self.recent_scans / (self.capacity_per_minute * WINDOW_MINUTES)

    @property
    def throughput_per_minute(self) -> float:
        return self.recent_scans / WINDOW_MINUTES

    @property
    def estimated_wait_seconds(self) -> float:
        return estimated_wait_seconds(recent_scans=self.recent_scans, capacity_per_minute=self.capacity_per_minute)


def gate_loads(*, event: Event, gates, now: datetime) -> dict[int, GateLoad]:
    """The load of each of the event's `gates` over the LOAD_WINDOW ending at `now`, by gate id (one grouped query).

    Scans that count at no gate (NOT_AT_A_GATE) load none.
    """
    recent = dict(
        at_a_gate(Scan.objects.filter(event=event, gate__isnull=False, scanned_at__gt=now - LOAD_WINDOW, scanned_at__lte=now))
        .values("gate_id")
        .annotate(n=Count("pk"))
        .values_list("gate_id", "n")
    )
    return {gate.pk: GateLoad(recent.get(gate.pk, 0), gate.capacity_per_minute) for gate in gates}


def stats_snapshot(*, event: Event, now: datetime | None = None) -> dict:
    """Overall, per gate, per hour, per method, alerts and predictions: the stats shape (API = websocket)."""
    now = now or timezone.now()
    counter = EventCounter.objects.filter(pk=event.pk).first() or EventCounter(event=event)
    registered = cached_registered_count(event=event)

    gates = list(Gate.objects.filter(event=event).order_by("code"))
    gate_counters = {row.gate_id: row for row in GateCounter.objects.filter(event=event)}
    loads = gate_loads(event=event, gates=gates, now=now)
    gate_rows = []
    for gate in gates:
        gc = gate_counters.get(gate.pk) or GateCounter(gate=gate)
        window = loads[gate.pk]
        gate_rows.append(
            {
                "id": gate.code,
                "name": gate.name,
                "direction": gate.direction,
                "isActive": gate.is_active,
                "capacityPerMinute": gate.capacity_per_minute,
                "scansProcessed": gc.scans_total,
                "scans": {"accepted": gc.scans_accepted, "duplicate": gc.scans_duplicate, "rejected": gc.scans_rejected},
                "methods": {m: getattr(gc, f"method_{m}") for m in METHODS},
                "lastScanAt": _iso(gc.last_scan_at),
                "recentScans": window.recent_scans,
                "throughputPerMinute": round(window.throughput_per_minute, 2),
                "load": round(window.load, 4),
                "estimatedWaitSeconds": window.estimated_wait_seconds,
                "status": gate_status(
                    load=window.load,
                    threshold=event.gate_overload_threshold,
                    is_active=gate.is_active,
                    recent_scans=window.recent_scans,
                ),
            }
        )

    hourly = _hourly(event=event, gates={g.pk: g.code for g in gates})
    return {
        "event": {
            "slug": event.slug,
            "name": event.name,
            "status": event.status,
            "timezone": event.timezone,
            "startsAt": _iso(event.starts_at),
            "endsAt": _iso(event.ends_at),
        },
        "generatedAt": now.isoformat(),
        "version": counter.scans_total,
        "overall": {
            "registered": registered,
            "checkedIn": counter.checked_in,
            "insideNow": counter.inside_now,
            "attendanceRate": _rate(counter.checked_in, registered),
            "entries": counter.entries,
            "exits": counter.exits,
            "scans": {
                "total": counter.scans_total,
                "accepted": counter.scans_accepted,
                "duplicate": counter.scans_duplicate,
                "rejected": counter.scans_rejected,
            },
            "lastScanAt": _iso(counter.last_scan_at),
        },
        "methods": {m: getattr(counter, f"method_{m}") for m in METHODS},
        "gates": gate_rows,
        "hourly": hourly,
        "alerts": [_alert(a) for a in Alert.objects.filter(event=event, resolved_at__isnull=True).select_related("gate")[:50]],
        "predictions": predictions(event=event, now=now, checked_in=counter.checked_in, registered=registered, hourly=hourly),
        "thresholds": {"gateOverload": event.gate_overload_threshold, "lowAttendance": event.low_attendance_threshold},
    }


def _hourly(*, event: Event, gates: dict[int, str]) -> list[dict]:
    hours: dict[datetime, dict] = {}
    for cell in HourlyCounter.objects.filter(event=event).order_by("hour_start"):
        local = cell.hour_start.astimezone(event.tzinfo)
        row = hours.get(local)
        if row is None:
            row = hours[local] = {
                "hour": local.isoformat(),
                "label": local.strftime("%H:00"),
                "count": 0,
                "entries": 0,
                "exits": 0,
                "methods": {m: 0 for m in METHODS},
                "gates": defaultdict(int),
            }
        row["count"] += cell.count
        row["entries" if cell.direction == Scan.Direction.ENTRY else "exits"] += cell.count
        row["methods"][cell.method] += cell.count
        row["gates"][gates.get(cell.gate_id, "unknown")] += cell.count
    for row in hours.values():
        row["gates"] = dict(row["gates"])
    return list(hours.values())


def predictions(*, event: Event, now: datetime, checked_in: int, registered: int, hourly: list[dict]) -> dict:
    """Expected final attendance and the peak hour, with the reasoning shown to staff."""
    peak = max(hourly, key=lambda row: row["entries"], default=None)
    peak_hour = {"hour": peak["hour"], "label": peak["label"], "entries": peak["entries"]} if peak and peak["entries"] else None

    # New arrivals (first entries) over the last hour, projected over the time left in which
    # people still arrive (until the end), never above the registered count.
    last_hour = Presence.objects.filter(event=event, first_entry_at__gt=now - timedelta(hours=1), first_entry_at__lte=now)
    arrivals_last_hour = last_hour.count()
    hours_left = max(0.0, (event.ends_at - max(now, event.starts_at)).total_seconds() / 3600)
    if now < event.starts_at - timedelta(hours=1):
        expected, basis = checked_in, "the event has not started yet: no arrivals to project from"
    else:
        projected = checked_in + round(arrivals_last_hour * hours_left)
        expected = min(registered, projected) if registered else projected
        basis = (
            f"{checked_in} checked in so far + {arrivals_last_hour} first arrivals in the last hour × "
            f"{hours_left:.1f} h left, capped at the {registered} registered"
        )
    return {
        "expectedFinalAttendance": expected,
        "expectedFinalRate": _rate(expected, registered),
        "peakHour": peak_hour,
        "arrivalsLastHour": arrivals_last_hour,
        "explanation": {
            "expectedFinalAttendance": basis,
            "peakHour": "the hour (event time) with the most accepted entries so far" if peak_hour else "no accepted entries yet",
        },
    }


def _alert(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "gateId": alert.gate.code if alert.gate else None,
        "message": alert.message,
        "value": round(alert.value, 4),
        "threshold": alert.threshold,
        "raisedAt": _iso(alert.raised_at),
        "lastSeenAt": _iso(alert.last_seen_at),
    }


def realtime_summary(*, event: Event, snapshot: dict | None = None) -> dict:
    """The compact realtime shape of the gate API, derived from the same snapshot."""
    snapshot = snapshot or stats_snapshot(event=event)
    overall = snapshot["overall"]
    return {
        "participants": {"total": overall["registered"], "checkedIn": overall["checkedIn"]},
        "attendance": {"current": overall["insideNow"], "rate": overall["attendanceRate"]},
        "gates": [
            {"id": g["id"], "status": g["status"], "throughput": g["throughputPerMinute"], "load": g["load"]}
            for g in snapshot["gates"]
        ],
        "generatedAt": snapshot["generatedAt"],
    }
