"""Organizations, their members, and the events they run."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}.", code="invalid_timezone")


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MANAGER = "manager", "Manager"
        STAFF = "staff", "Staff"
        VIEWER = "viewer", "Viewer"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(condition=Q(role__in=["owner", "manager", "staff", "viewer"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} of {self.organization}"


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        LIVE = "live", "Live"
        CLOSED = "closed", "Closed"
        ARCHIVED = "archived", "Archived"

    class Language(models.TextChoices):
        KOREAN = "ko", "한국어"
        ENGLISH = "en", "English"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="events")
    slug = models.SlugField(max_length=100, unique=True, help_text="Public id used in URLs, e.g. tech-conference-2024.")
    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="Asia/Seoul", validators=[validate_timezone])
    venue = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.KOREAN)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Check-in rules
    allow_multiple_checkins = models.BooleanField(default=False)
    duplicate_window_seconds = models.PositiveIntegerField(default=300)
    checkin_grace_seconds = models.PositiveIntegerField(
        default=3600, help_text="Scans are accepted this long before the start and after the end."
    )
    offline_mode = models.BooleanField(default=True, help_text="Gate devices may sync the participant list and scan offline.")
    token_prefix = models.CharField(
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]*$", "Upper-case letters and digits only.")],
        help_text="Printed before the ticket token, e.g. TCF24.",
    )
    phone_region = models.CharField(max_length=2, default="KR", help_text="Default region for phone numbers (ISO 3166).")

    # Gate and alert defaults
    default_gate_capacity_per_minute = models.PositiveIntegerField(default=30)
    gate_overload_threshold = models.FloatField(default=0.8, validators=[MinValueValidator(0), MaxValueValidator(10)])
    low_attendance_threshold = models.FloatField(default=0.3, validators=[MinValueValidator(0), MaxValueValidator(1)])

    # Ed25519 key pair: the QR carries the token signed with the private key so an offline
    # tablet can verify tickets with the public key alone. The private key never leaves the server.
    signing_private_key = models.BinaryField(max_length=32, editable=False)
    signing_public_key = models.BinaryField(max_length=32, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "live", "closed", "archived"]), name="event_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(low_attendance_threshold__gte=0) & Q(low_attendance_threshold__lte=1),
                name="event_low_attendance_threshold_range",
            ),
            models.CheckConstraint(condition=Q(gate_overload_threshold__gte=0), name="event_gate_overload_threshold_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The event must end after it starts."})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class EventStatusChange(models.Model):
    """The audit trail of lifecycle moves: who moved the event, from what, to what, when."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Event.Status.choices)
    to_status = models.CharField(max_length=16, choices=Event.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["event", "-changed_at"], name="status_change_by_event")]

    def __str__(self) -> str:
        return f"{self.event}: {self.from_status} → {self.to_status}"
