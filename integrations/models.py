"""Integration models: webhook endpoints, deliveries and their attempts (the outbox lives in integrations.outbox)."""

import base64
import secrets

from django.db import models
from django.db.models import Q

from events.models import Organization
from integrations.destinations import validate_webhook_url
from integrations.outbox import OutboxEvent, Topic

__all__ = ["OutboxEvent", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def generate_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000, validators=[validate_webhook_url])
    description = models.CharField(max_length=200, blank=True)
    topics = models.JSONField(
        default=list, blank=True, help_text="Event types to send; empty means every event type of the organization."
    )
    secret = models.CharField(max_length=100, default=generate_webhook_secret, help_text="Give this to the receiver.")
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last success; cleared by a success."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "url"]
        indexes = [models.Index(fields=["organization"], condition=Q(is_active=True), name="webhook_endpoint_active_org")]
        constraints = [models.CheckConstraint(condition=Q(secret__startswith=SECRET_PREFIX), name="webhook_endpoint_secret_form")]

    def __str__(self) -> str:
        return self.url

    def wants(self, topic: str) -> bool:
        return not self.topics or topic in self.topics


class WebhookDelivery(models.Model):
    """One domain event for one endpoint: pending until a 2xx (succeeded) or the retries run out (failed)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    outbox_event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="webhook_deliveries")
    # Copied from the outbox row: deliveries to one endpoint keep the order of one Gatehouse event.
    event_id = models.BigIntegerField()
    topic = models.CharField(max_length=64, choices=Topic.choices)
    webhook_id = models.CharField(max_length=64, help_text="The webhook-id header: the same on every retry, for deduplication.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts since the delivery was (re)queued.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response_excerpt = models.TextField(blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "outbox_event"], name="webhook_delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]), name="webhook_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False), name="webhook_delivery_pending_is_scheduled"
            ),
        ]
        indexes = [
            # the sender: due heads of each (endpoint, event) stream
            models.Index(fields=["endpoint", "event_id", "id"], condition=Q(status="pending"), name="webhook_pending_stream"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.endpoint} ({self.status})"

    @property
    def organization_id(self) -> int:
        return self.endpoint.organization_id


class WebhookAttempt(models.Model):
    """The log of one HTTP attempt, kept for the admin's delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    is_success = models.BooleanField()

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]
        indexes = [models.Index(fields=["delivery", "attempted_at"], name="webhook_attempt_by_delivery")]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} in {self.latency_ms} ms"
