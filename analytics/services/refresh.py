"""Refresh after scans were marked: apply them, now and then sweep in unpublished scans, check alerts, ping the dashboard."""

import time

from analytics import broadcast
from analytics.services.alerts import check_alerts
from analytics.services.counting import apply_pending, enqueue_uncounted_scans
from events.models import Event

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
    """After scans were marked: apply them, sweep in unpublished refusals now and then, check alerts.

    The event's dashboards are pinged once, after all of it (numbers and any alert raised in one
    snapshot). Returns how many scans were applied.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    with broadcast.one_ping_per_event():
        if _due("sweep", event_id, UNCOUNTED_SWEEP_SECONDS):
            enqueue_uncounted_scans(event=event)
        gate_ids: set[int] = set()
        applied = apply_pending(event_id=event_id, touched_gate_ids=gate_ids)
        if applied:
            # Once per batch, for the gates that just scanned: bounded by relay commits, not by scans.
            check_alerts(
                event=event,
                gate_ids=gate_ids,
                low_attendance=_due("low-attendance", event_id, LOW_ATTENDANCE_CHECK_SECONDS),
            )
    return applied
