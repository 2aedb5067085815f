"""Organiser admin for organizations and events, scoped to the user's memberships."""

from django.contrib import admin, messages
from django.db.models import Count

from config.errors import DomainError
from events import services
from events.access import OrganizationScopedAdmin, OrganizationScopedInline
from events.models import Event, EventStatusChange, Membership, Organization


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


class StatusChangeInline(OrganizationScopedInline, admin.TabularInline):
    model = EventStatusChange
    extra = 0
    fields = ["from_status", "to_status", "changed_by", "changed_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(Event)
class EventAdmin(OrganizationScopedAdmin):
    organization_field = "organization_id"
    list_display = ["name", "slug", "organization", "status", "starts_at", "ends_at", "participant_count"]
    list_filter = ["status", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "venue"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "status_changed_at", "status_changed_by", "created_at", "updated_at"]
    inlines = [StatusChangeInline]
    actions = [
        _transition_action(Event.Status.PUBLISHED, "Publish selected events"),
        _transition_action(Event.Status.LIVE, "Open check-in (go live)"),
        _transition_action(Event.Status.CLOSED, "Close selected events"),
        _transition_action(Event.Status.ARCHIVED, "Archive selected events"),
        _transition_action(Event.Status.DRAFT, "Back to draft (from published)"),
    ]
    fieldsets = [
        (None, {"fields": ["organization", "name", "slug", "status", "starts_at", "ends_at", "timezone", "venue", "language"]}),
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
        ("History", {"fields": ["status_changed_at", "status_changed_by", "created_at", "updated_at"]}),
    ]

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
