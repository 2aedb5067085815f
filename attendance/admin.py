"""A read-only scan list: scans are the audit trail and change only through the gate API."""

from django.contrib import admin

from attendance.models import Scan
from events.access import OrganizationScopedAdmin


@admin.register(Scan)
class ScanAdmin(OrganizationScopedAdmin):
    list_display = ["scanned_at", "participant", "gate", "direction", "method", "result", "reason", "device"]
    list_filter = [
        "result",
        "direction",
        "method",
        ("event", admin.RelatedOnlyFieldListFilter),
        ("gate", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["participant__name", "participant__email", "scan_id"]
    list_select_related = ["participant", "gate", "device", "event"]
    date_hierarchy = "scanned_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The check-in part of the participant admin lives in its own module; importing it registers it.
from attendance import checkin_admin  # noqa: E402, F401
