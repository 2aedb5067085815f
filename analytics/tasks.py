"""Celery entry points of analytics: periodic alert checks and the sweep for scans no outbox row brought."""

from celery import shared_task

from analytics import broadcast, services
from analytics.models import CountedScan
from events.models import Event


@shared_task(name="analytics.refresh_event_stats", acks_late=True, ignore_result=True)
def refresh_event_stats(*, event_id: int) -> int:
    """Apply the event's marked scans, check its alerts, ping its dashboards; idempotent."""
    return services.refresh_event_stats(event_id=event_id)


@shared_task(name="analytics.check_alerts", acks_late=True, ignore_result=True)
def check_alerts() -> int:
    raised = 0
    for event in Event.objects.filter(status=Event.Status.LIVE):
        raised += len(services.check_alerts(event=event))
    return raised


@shared_task(name="analytics.count_uncounted_scans", acks_late=True, ignore_result=True)
def count_uncounted_scans() -> int:
    """Apply what a failed post-commit step left pending, and refusals that no outbox row brought."""
    applied = 0
    with broadcast.one_ping_per_event():
        for event_id in CountedScan.objects.filter(is_applied=False).values_list("event_id", flat=True).distinct():
            applied += services.apply_pending(event_id=event_id)
        for event in Event.objects.filter(status=Event.Status.LIVE):
            applied += services.apply_uncounted_scans(event=event)
    return applied


@shared_task(name="analytics.count_refusals", acks_late=True, ignore_result=True)
def count_refusals() -> int:
    """Count refused scans (stored without an outbox row) every ANALYTICS_REFUSAL_SWEEP_SECONDS; idempotent."""
    return services.sweep_refusals()
