"""Scans: every check-in attempt, accepted or not — the audit trail and the source of statistics."""

import uuid

from django.db import models
from django.db.models import Q

from events.models import Event
from gates.models import Device, Gate
from participants.models import Participant


class Scan(models.Model):
    class Method(models.TextChoices):
        QR_SCAN = "qr_scan", "QR scan"
        BLE_AUTO = "ble_auto", "BLE (automatic)"
        MANUAL = "manual", "Manual"

    class Direction(models.TextChoices):
        ENTRY = "entry", "Entry"
        EXIT = "exit", "Exit"

    class Result(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        REJECTED = "rejected", "Rejected"

    scan_id = models.UUIDField(default=uuid.uuid4, unique=True, help_text="Client idempotency key.")
    # No single-column indexes on event, participant and gate: the composite indexes below
    # lead with each of them, and every index is written on every check-in.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scans", db_index=False)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="scans", db_index=False
    )
    gate = models.ForeignKey(Gate, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans", db_index=False)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans")
    scanned_at = models.DateTimeField(help_text="Device time of the scan.")
    received_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.QR_SCAN)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.ENTRY)
    result = models.CharField(max_length=16, choices=Result.choices)
    reason = models.CharField(max_length=64, blank=True, help_text="The error code when not accepted.")
    location = models.JSONField(null=True, blank=True)
    device_info = models.JSONField(null=True, blank=True)
    # The verdict as answered, so a replayed scanId gets exactly the same answer.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-scanned_at"]
        constraints = [
            models.CheckConstraint(condition=Q(result__in=["accepted", "duplicate", "rejected"]), name="scan_result_valid"),
            models.CheckConstraint(condition=Q(method__in=["qr_scan", "ble_auto", "manual"]), name="scan_method_valid"),
            models.CheckConstraint(condition=Q(direction__in=["entry", "exit"]), name="scan_direction_valid"),
            models.CheckConstraint(condition=Q(result="accepted") | ~Q(reason=""), name="scan_refusal_has_reason"),
        ]
        indexes = [
            # check-in rules: this participant's last accepted scan (inside/outside, already checked in)
            models.Index(
                fields=["participant", "-scanned_at"], condition=Q(result="accepted"), name="scan_accepted_by_participant"
            ),
            # duplicate window: same participant at the same gate recently
            models.Index(fields=["participant", "gate", "-scanned_at"], name="scan_by_participant_gate"),
            # statistics: an event's scans over time, and per gate
            models.Index(fields=["event", "scanned_at"], name="scan_by_event_time"),
            models.Index(fields=["gate", "scanned_at"], name="scan_by_gate_time"),
            # the refusal sweep (analytics): an event's refusals, a few percent of its scans. Partial,
            # so an accepted check-in writes no entry here.
            models.Index(fields=["event", "id"], condition=~Q(result="accepted"), name="scan_refusal_by_event"),
        ]

    def __str__(self) -> str:
        return f"{self.result} {self.direction} scan {self.scan_id}"

    @property
    def organization_id(self) -> int:
        return self.event.organization_id
