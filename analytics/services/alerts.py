"""Alerts: evaluate the gate-overload and low-attendance rules, raise alerts (published as `alert.raised`), resolve them."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analytics import broadcast
from analytics.models import Alert, EventCounter
from analytics.selectors import GateLoad, gate_loads, registered_count
from analytics.services.counting import lock_event_counter
from events.errors import DomainError
from events.models import Event, Membership
from gates.models import Gate
from integrations.outbox import Topic, publish

# Who may resolve alerts from the dashboard; viewers only watch.
RESOLVER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER, Membership.Role.STAFF})


class AlertNotFound(DomainError):
    code = "alert_not_found"
    http_status = 404


class NotAllowedToResolve(DomainError):
    code = "permission_denied"
    http_status = 403


def raise_alert(
    *, event: Event, kind: str, subject: str, gate: Gate | None, value: float, threshold: float, message: str, now: datetime
) -> Alert | None:
    """Raise an alert unless one is open for the subject or one was raised within the cooldown.

    An open alert is refreshed (value, last seen) instead of repeated; a new one is published
    as `alert.raised` in the caller's transaction and the event's dashboards are pinged after
    its commit (the relayed `alert.raised` row does not ping again). Returns the new alert, or None.
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
    broadcast.stats_changed_on_commit(event_id=event.pk)
    return alert


def check_gate_overload(*, gate: Gate, window: GateLoad, now: datetime) -> Alert | None:
    """Raise an overload alert if the gate's load over the window (selectors.gate_loads) is above the event's threshold."""
    event = gate.event
    load = window.load
    if load <= event.gate_overload_threshold:
        return None
    return raise_alert(
        event=event,
        kind=Alert.Kind.GATE_OVERLOAD,
        subject=f"gate:{gate.pk}",
        gate=gate,
        value=load,
        threshold=event.gate_overload_threshold,
        message=f"{gate.name}: {window.recent_scans} scans in 5 min, {load:.0%} of capacity ({gate.capacity_per_minute}/min).",
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
        lock_event_counter(event.pk)
        gates = Gate.objects.filter(event=event, is_active=True)
        gates = list(gates if gate_ids is None else gates.filter(pk__in=gate_ids))
        windows = gate_loads(event=event, gates=gates, now=now)
        for gate in gates:
            gate.event = event
            raised.append(check_gate_overload(gate=gate, window=windows[gate.pk], now=now))
        if low_attendance:
            raised.append(check_low_attendance(event=event, now=now))
    return [alert for alert in raised if alert is not None]


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
            broadcast.stats_changed_on_commit(event_id=event.pk)
    return alert
