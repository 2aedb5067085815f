"""Statistics counters and alerts; every counter can be rebuilt from attendance.Scan.

Cumulative numbers (checked in, inside now, per gate, per hour) are counters maintained one
scan at a time by the outbox sink, so a snapshot reads a handful of small rows however many
scans an event has. Windowed numbers (gate load over the last five minutes) are read from
Scan's (gate, scanned_at) index instead: a window slides, a counter does not.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from attendance.models import Scan
from events.models import Event
from gates.models import Gate
from participants.models import Participant


class EventCounter(models.Model):
    """One row per event: the overall numbers, and the row every counter write locks first."""

    event = models.OneToOneField(Event, on_delete=models.CASCADE, primary_key=True, related_name="counter")
    scans_total = models.PositiveIntegerField(default=0)
    scans_accepted = models.PositiveIntegerField(default=0)
    scans_duplicate = models.PositiveIntegerField(default=0)
    scans_rejected = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0, help_text="Accepted entry scans (re-entries included).")
    exits = models.PositiveIntegerField(default=0, help_text="Accepted exit scans.")
    checked_in = models.PositiveIntegerField(default=0, help_text="Unique people with at least one accepted entry.")
    inside_now = models.PositiveIntegerField(default=0, help_text="People whose latest accepted scan is an entry.")
    method_qr_scan = models.PositiveIntegerField(default=0)
    method_ble_auto = models.PositiveIntegerField(default=0)
    method_manual = models.PositiveIntegerField(default=0)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"counters of {self.event_id}"


class GateCounter(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="gate_counters")
    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="counters")
    scans_total = models.PositiveIntegerField(default=0, help_text="Every scan the gate processed, refusals included.")
    scans_accepted = models.PositiveIntegerField(default=0)
    scans_duplicate = models.PositiveIntegerField(default=0)
    scans_rejected = models.PositiveIntegerField(default=0)
    method_qr_scan = models.PositiveIntegerField(default=0)
    method_ble_auto = models.PositiveIntegerField(default=0)
    method_manual = models.PositiveIntegerField(default=0)
    last_scan_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gate"], name="gate_counter_one_per_gate")]

    def __str__(self) -> str:
        return f"counters of gate {self.gate_id}"


class HourlyCounter(models.Model):
    """Accepted scans per hour of the event's own time zone, split by gate, method and direction."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="hourly_counters")
    hour_start = models.DateTimeField(help_text="Start of the local hour, stored as an instant.")
    gate = models.ForeignKey(Gate, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=16, choices=Scan.Method.choices)
    direction = models.CharField(max_length=8, choices=Scan.Direction.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        # Two partial constraints instead of NULLS NOT DISTINCT, which SQLite (embedded mode) lacks.
        constraints = [
            models.UniqueConstraint(
                fields=["event", "hour_start", "gate", "method", "direction"],
                condition=Q(gate__isnull=False),
                name="hourly_counter_unique_cell",
            ),
            models.UniqueConstraint(
                fields=["event", "hour_start", "method", "direction"],
                condition=Q(gate__isnull=True),
                name="hourly_counter_unique_gateless_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour_start:%Y-%m-%d %H}h {self.method} {self.direction}: {self.count}"


class Presence(models.Model):
    """Where a participant stands, by their latest accepted scan: what makes 'unique' and 'inside' countable."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="presences")
    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="presence")
    first_entry_at = models.DateTimeField(null=True, blank=True)
    is_inside = models.BooleanField(default=False)
    last_scanned_at = models.DateTimeField()
    last_scan_pk = models.BigIntegerField(help_text="Breaks ties between scans with the same device time.")

    class Meta:
        # predictions: first arrivals in the last hour
        indexes = [models.Index(fields=["event", "first_entry_at"], name="presence_arrivals_by_time")]

    def __str__(self) -> str:
        return f"{self.participant_id} {'inside' if self.is_inside else 'outside'}"


class CountedScan(models.Model):
    """A scan marked for the counters: pending until applied, then applied exactly once.

    The mark is the idempotency key of at-least-once delivery (a second mark is a no-op) and
    the inbox of the batched apply (analytics.services.apply_pending).
    """

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, primary_key=True, related_name="counted")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    is_applied = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["event"], condition=Q(is_applied=False), name="counted_scan_pending")]

    def __str__(self) -> str:
        return f"counted {self.scan_id}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        GATE_OVERLOAD = "gate_overload", "Gate overload"
        LOW_ATTENDANCE = "low_attendance", "Low attendance"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    gate = models.ForeignKey(Gate, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    # "gate:<id>" or "event": one open alert per subject, and the cooldown's key.
    subject = models.CharField(max_length=64)
    message = models.CharField(max_length=300)
    value = models.FloatField(help_text="The measured value that crossed the threshold.")
    threshold = models.FloatField()
    raised_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="Last time the condition was observed while open.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "kind", "subject"], condition=Q(resolved_at__isnull=True), name="alert_one_open_per_subject"
            ),
            models.CheckConstraint(condition=Q(kind__in=["gate_overload", "low_attendance"]), name="alert_kind_valid"),
        ]
        indexes = [models.Index(fields=["event", "kind", "subject", "-raised_at"], name="alert_cooldown_lookup")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def organization_id(self) -> int:
        return self.event.organization_id
