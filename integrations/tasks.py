"""Celery entry points of integrations."""

from celery import shared_task

from integrations.relay import relay_all


@shared_task(name="integrations.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Relay everything pending; safe to run concurrently and repeatedly."""
    return relay_all()
