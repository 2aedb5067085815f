"""Organiser admin for organizations and events, scoped to the user's memberships."""

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Count
from django.utils import timezone

from events import services
from events.access import OrganizationScopedAdmin, OrganizationScopedInline, ReadOnlyAdminMixin
from events.errors import DomainError
from events.local_time import event_time_column, utc_time
from events.models import Event, EventStatusChange, Membership, Organization


def _the_event_itself(event: Event) -> Event:
    return event


class MembershipInline(OrganizationScopedInline, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "id"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request, obj=None):
        # New organizations are created by the operator; members manage what they have.
        return request.user.is_superuser


class StatusChangeInline(ReadOnlyAdminMixin, OrganizationScopedInline, admin.TabularInline):
    model = EventStatusChange
    extra = 0
    fields = ["from_status", "to_status", "changed_by", "changed"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")  # each row's time reads the event's zone

    changed = event_time_column("changed_at", "Changed at")


def _transition_action(to_status: str, label: str):
    def action(modeladmin, request, queryset):
        moved = 0
        for event in queryset:
            try:
                services.change_event_status(event=event, to_status=to_status, changed_by=request.user)
                moved += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{event.name}: {exc.message}", messages.ERROR)
        if moved:
            modeladmin.message_user(request, f"{moved} event(s) moved to {to_status}.", messages.SUCCESS)

    action.__name__ = f"mark_{to_status}"
    action.short_description = label
    action.allowed_permissions = ("change",)
    return action


class EventAdminForm(forms.ModelForm):
    """Start and end are typed as the organiser reads them: wall-clock time in the event's zone.

    The admin's date fields read a typed time in the active zone; `clean` keeps the wall-clock
    time and places it in the zone chosen on the same form. So a new event's times mean the zone
    picked for it, and changing an event's zone keeps "09:00" at 09:00 in the new zone.
    """

    class Meta:
        model = Event
        # What this form itself handles; the admin adds the rest from its fieldsets.
        fields = ["timezone", "starts_at", "ends_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        event = self.instance
        if event.pk:
            help_text = f"In the event's time zone, {event.timezone}."
            for name in ("starts_at", "ends_at"):
                if name in self.fields:
                    at = getattr(event, name)
                    self.fields[name].help_text = f"{help_text} Saved: {utc_time(at)}." if at else help_text
        else:
            for name in ("starts_at", "ends_at"):
                if name in self.fields:
                    self.fields[name].help_text = "In the event's time zone (the Timezone field above)."

    def clean(self):
        cleaned = super().clean()
        zone_name = cleaned.get("timezone")
        if zone_name in zoneinfo.available_timezones():
            zone = zoneinfo.ZoneInfo(zone_name)
            for name in ("starts_at", "ends_at"):
                value = cleaned.get(name)
                if value is not None:
                    wall_clock = timezone.make_naive(value, timezone.get_current_timezone())
                    cleaned[name] = timezone.make_aware(wall_clock, zone)
        return cleaned


@admin.register(Event)
class EventAdmin(OrganizationScopedAdmin):
    organization_field = "organization_id"
    form = EventAdminForm
    list_display = ["name", "slug", "organization", "status", "starts", "ends", "participant_count"]
    list_filter = ["status", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "venue"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "status_changed", "status_changed_by", "created", "updated"]
    inlines = [StatusChangeInline]
    actions = [
        _transition_action(Event.Status.PUBLISHED, "Publish selected events"),
        _transition_action(Event.Status.LIVE, "Open check-in (go live)"),
        _transition_action(Event.Status.CLOSED, "Close selected events"),
        _transition_action(Event.Status.ARCHIVED, "Archive selected events"),
        _transition_action(Event.Status.DRAFT, "Back to draft (from published)"),
    ]
    fieldsets = [
        # The zone comes before the times: they are read in it.
        (None, {"fields": ["organization", "name", "slug", "status", "timezone", "starts_at", "ends_at", "venue", "language"]}),
        (
            "Check-in rules",
            {
                "fields": [
                    "allow_multiple_checkins",
                    "duplicate_window_seconds",
                    "checkin_grace_seconds",
                    "offline_mode",
                    "token_prefix",
                    "phone_region",
                ]
            },
        ),
        (
            "Gates and alerts",
            {"fields": ["default_gate_capacity_per_minute", "gate_overload_threshold", "low_attendance_threshold"]},
        ),
        ("History", {"fields": ["status_changed", "status_changed_by", "created", "updated"]}),
    ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The whole page speaks the event's zone: the date inputs, the admin's "Now" shortcut
        # and its "you are N hours ahead" note. A new event starts in the default zone.
        event = self.get_object(request, unquote(object_id)) if object_id else None
        zone = event.tzinfo if event else zoneinfo.ZoneInfo(Event._meta.get_field("timezone").default)
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render it while the zone is active.
            if hasattr(response, "render"):
                response.render()
        return response

    starts = event_time_column("starts_at", "Starts", event_of=_the_event_itself)

    ends = event_time_column("ends_at", "Ends", event_of=_the_event_itself)

    status_changed = event_time_column("status_changed_at", "Status changed at", event_of=_the_event_itself)

    created = event_time_column("created_at", "Created at", event_of=_the_event_itself)

    updated = event_time_column("updated_at", "Updated at", event_of=_the_event_itself)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization").annotate(_participant_count=Count("participants"))

    @admin.display(description="Participants", ordering="_participant_count")
    def participant_count(self, obj):
        return obj._participant_count

    def save_model(self, request, obj, form, change):
        if not change:
            services.ensure_signing_keys(event=obj)
        super().save_model(request, obj, form, change)


def register_event_inline(inline_class) -> None:
    """Apps above events (gates, …) add their inlines to the event page without events importing them."""
    EventAdmin.inlines = [inline_class, *EventAdmin.inlines]
