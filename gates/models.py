"""Gates of an event and the tablets (devices) that scan at them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from events.models import Event


class Gate(models.Model):
    class Direction(models.TextChoices):
        ENTRY = "entry", "Entry"
        EXIT = "exit", "Exit"
        BOTH = "both", "Entry and exit"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="gates")
    code = models.SlugField(max_length=64, help_text="Unique within the event, e.g. main-entrance.")
    name = models.CharField(max_length=200)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.ENTRY)
    capacity_per_minute = models.PositiveIntegerField(default=30)
    location = models.CharField(max_length=300, blank=True)
    beacon_configs = models.JSONField(
        default=list, blank=True, help_text="BLE beacons at this gate (uuid, major, minor, rssi threshold)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "code"]
        constraints = [
            models.UniqueConstraint(fields=["event", "code"], name="gate_code_unique_per_event"),
            models.CheckConstraint(condition=Q(direction__in=["entry", "exit", "both"]), name="gate_direction_valid"),
            models.CheckConstraint(condition=Q(capacity_per_minute__gt=0), name="gate_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def organization_id(self) -> int:
        return self.event.organization_id


class Device(models.Model):
    """A gate tablet. Its API key is shown once at creation; only a keyed hash is stored."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="devices")
    gate = models.ForeignKey(Gate, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices")
    name = models.CharField(max_length=200)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="The key's public first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def organization_id(self) -> int:
        return self.event.organization_id
