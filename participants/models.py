"""Participants of an event, and the jobs that import them."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from events.models import Event
from participants.tokens import generate_token


class Participant(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"
        BLOCKED = "blocked", "Blocked"

    GOOD_STANDING = (Status.REGISTERED, Status.ACTIVE)

    class EmailStatus(models.TextChoices):
        UNSENT = "unsent", "Not sent"
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=100, blank=True, help_text="Id from the registration system, if any.")
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +821012345678.")
    organization = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    position = models.CharField(max_length=200, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    region = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTERED)
    token = models.CharField(max_length=30, unique=True, default=generate_token, editable=False)
    metadata = models.JSONField(default=dict, blank=True)
    # Which import created this participant: the audit trail, and how "send tickets" finds
    # exactly the participants an import added.
    import_job = models.ForeignKey(
        "participants.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="created_participants"
    )

    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.UNSENT)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.TextField(blank=True)
    email_last_attempt_at = models.DateTimeField(null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_message_id = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["event", "name"]
        constraints = [
            models.UniqueConstraint("event", Lower("email"), name="participant_email_unique_per_event"),
            models.UniqueConstraint(
                fields=["event", "external_id"], condition=~Q(external_id=""), name="participant_external_id_unique_per_event"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["registered", "active", "cancelled", "blocked"]), name="participant_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(email_status__in=["unsent", "pending", "sent", "failed", "bounced"]),
                name="participant_email_status_valid",
            ),
        ]
        indexes = [
            # gate-sync pages through an event's participants in change order
            models.Index(fields=["event", "updated_at", "id"], name="participant_sync_cursor"),
            models.Index(fields=["email_next_attempt_at"], condition=Q(email_status="pending"), name="participant_email_due"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def organization_id(self) -> int:
        return self.event.organization_id

    @property
    def is_in_good_standing(self) -> bool:
        return self.status in self.GOOD_STANDING


class ImportJob(models.Model):
    """A participant import; its state lives here so a killed worker can resume it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_filename = models.CharField(max_length=255)
    send_tickets = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    rows_done = models.PositiveIntegerField(default=0, help_text="Resume point: rows fully processed.")
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(
        default=0, help_text="Rows matching an existing participant with nothing to change."
    )
    duplicate_count = models.PositiveIntegerField(default=0, help_text="Rows repeating an earlier row of the same file.")
    error_count = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started or resumed the job.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_job_progress_range"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "completed", "failed"]), name="import_job_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="import_job_stale_sweep")]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.original_filename}"

    @property
    def organization_id(self) -> int:
        return self.event.organization_id


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    value = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["job", "row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="import_row_error_by_job")]

    def __str__(self) -> str:
        return f"row {self.row} {self.column}: {self.message}"
