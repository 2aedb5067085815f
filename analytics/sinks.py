"""The outbox sink of analytics: turns relayed `attendance.recorded` rows into counter updates.

Runs inside the relay's transaction (see integrations.relay): database writes commit together
with the row being marked relayed; the websocket ping is deferred to after that commit.
"""

import logging
import time
from datetime import timedelta

from django.utils import timezone

from analytics import broadcast, services
from attendance.models import Scan
from integrations.outbox import OutboxEvent, Topic

logger = logging.getLogger(__name__)

LOW_ATTENDANCE_CHECK_SECONDS = 30.0
# Refused scans are stored without an outbox row; the sink sweeps them in this often per event,
# so the embedded mode (no beat) counts them too. Beat's analytics.count_uncounted_scans is the backstop.
UNCOUNTED_SWEEP_SECONDS = 5.0
# Per process, throttles only.
_last_low_attendance_check: dict[int, float] = {}
_last_sweep: dict[int, float] = {}


def _due(throttle: dict[int, float], event_id: int, seconds: float) -> bool:
    now = time.monotonic()
    if now - throttle.get(event_id, 0.0) < seconds:
        return False
    throttle[event_id] = now
    return True


def apply_outbox_event(row: OutboxEvent) -> None:
    if row.topic == Topic.ATTENDANCE_RECORDED:
        _apply_recorded(row)
    elif row.topic == Topic.ALERT_RAISED:
        broadcast.stats_changed_on_commit(event_id=row.event_id)


def _apply_recorded(row: OutboxEvent) -> None:
    scan_id = (row.payload or {}).get("scanId")
    # The numbers come from the stored scan, never from the payload.
    scan = Scan.objects.select_related("event", "gate").filter(scan_id=scan_id).first() if scan_id else None
    if scan is None:
        logger.warning("outbox #%s: attendance.recorded without a stored scan (%r); skipped", row.pk, scan_id)
        return
    applied = services.apply_scan(scan=scan)
    if _due(_last_sweep, scan.event_id, UNCOUNTED_SWEEP_SECONDS):
        applied += services.apply_uncounted_scans(event=scan.event)
    if not applied:
        return
    now = timezone.now()
    if scan.gate is not None and scan.scanned_at > now - services.LOAD_WINDOW - timedelta(minutes=1):
        scan.gate.event = scan.event
        services.check_gate_overload(gate=scan.gate, now=now)
    if _due(_last_low_attendance_check, scan.event_id, LOW_ATTENDANCE_CHECK_SECONDS):
        services.check_low_attendance(event=scan.event, now=now)
    broadcast.stats_changed_on_commit(event_id=scan.event_id)
