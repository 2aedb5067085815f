"""Writes of the statistics, one module per job: counting, rebuild, alerts, refresh (what the relay's refresh runs).

The functions the rest of the code calls are exported here; import them as `from analytics
import services` and call `services.<name>`.
"""

from analytics.services.alerts import AlertNotFound, NotAllowedToResolve, check_alerts, resolve_alert
from analytics.services.counting import (
    apply_pending,
    apply_uncounted_scans,
    count_refusals,
    enqueue_scan,
    enqueue_uncounted_scans,
    sweep_refusals,
)
from analytics.services.rebuild import RebuildResult, rebuild_event_stats
from analytics.services.refresh import refresh_event_stats

__all__ = [
    "AlertNotFound",
    "NotAllowedToResolve",
    "RebuildResult",
    "apply_pending",
    "apply_uncounted_scans",
    "check_alerts",
    "count_refusals",
    "enqueue_scan",
    "enqueue_uncounted_scans",
    "rebuild_event_stats",
    "refresh_event_stats",
    "resolve_alert",
    "sweep_refusals",
]
