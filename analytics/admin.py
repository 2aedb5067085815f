"""Organiser admin for alerts, and the link from an event's admin page to its live dashboard."""

from django.contrib import admin, messages
from django.utils import timezone

from analytics import services
from analytics.models import Alert
from events.access import OrganizationScopedAdmin
from events.admin import EventAdmin
from events.local_time import event_time_column, utc_time

# Additive: the event change page gets a "Live dashboard" button without events importing analytics.
EventAdmin.change_form_template = "analytics/admin/event_change_form.html"


@admin.register(Alert)
class AlertAdmin(OrganizationScopedAdmin):
    list_display = ["raised", "event", "kind", "gate", "message", "last_seen", "resolved", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event", "gate", "resolved_by"]
    actions = ["resolve"]
    fields = [
        "event",
        "kind",
        "gate",
        "subject",
        "message",
        "value",
        "threshold",
        "raised",
        "last_seen",
        "resolved",
        "resolved_by",
    ]
    readonly_fields = fields

    raised = event_time_column("raised_at", "Raised at")

    last_seen = event_time_column("last_seen_at", "Last seen")

    resolved = event_time_column("resolved_at", "Resolved at")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.action(description="Resolve the selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        resolved = 0
        for alert in queryset.filter(resolved_at__isnull=True).select_related("event"):
            services.resolve_alert(alert_id=alert.pk, event=alert.event, user=request.user)
            resolved += 1
        # Alerts of several events (and zones) may be selected: the one time that reads alike for all is UTC.
        self.message_user(request, f"{resolved} alert(s) resolved at {utc_time(timezone.now())}.", messages.SUCCESS)
