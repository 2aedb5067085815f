"""Organiser admin for alerts, and the link from an event's admin page to its live dashboard."""

from django.contrib import admin, messages
from django.utils import timezone

from analytics import services
from analytics.models import Alert
from events.access import OrganizationScopedAdmin
from events.admin import EventAdmin

# Additive: the event change page gets a "Live dashboard" button without events importing analytics.
EventAdmin.change_form_template = "analytics/admin/event_change_form.html"


@admin.register(Alert)
class AlertAdmin(OrganizationScopedAdmin):
    list_display = ["raised_at", "event", "kind", "gate", "message", "last_seen_at", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event", "gate", "resolved_by"]
    actions = ["resolve"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.action(description="Resolve the selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        resolved = 0
        for alert in queryset.filter(resolved_at__isnull=True).select_related("event"):
            services.resolve_alert(alert_id=alert.pk, event=alert.event, user=request.user)
            resolved += 1
        self.message_user(request, f"{resolved} alert(s) resolved at {timezone.now():%H:%M}.", messages.SUCCESS)
