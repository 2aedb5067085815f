"""Celery entry points of integrations: small, idempotent, safe to run concurrently."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from integrations.relay import relay_all


@shared_task(name="integrations.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Relay everything pending; safe to run concurrently and repeatedly."""
    return relay_all()


@shared_task(name="integrations.deliver_webhooks", acks_late=True, ignore_result=True)
def deliver_webhooks() -> int:
    """Send the webhook deliveries that are due (kicked after a relay, swept by beat)."""
    from integrations.webhooks import deliver_due

    return deliver_due()


@shared_task(name="integrations.prune_outbox", acks_late=True, ignore_result=True)
def prune_outbox() -> int:
    """Forget relayed domain events (and their webhook log) older than OUTBOX_RETENTION_DAYS."""
    from integrations.relay import prune_relayed

    return prune_relayed(older_than=timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS))
