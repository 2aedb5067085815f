"""A read-only scan list: scans are the audit trail and change only through the gate API."""

from django.contrib import admin
from django.utils.html import format_html

from attendance.models import Scan
from events.access import OrganizationScopedAdmin, ReadOnlyAdminMixin
from events.local_time import event_time_column

RESULT_COLORS = {Scan.Result.ACCEPTED: "green", Scan.Result.REJECTED: "#ba2121"}


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    # Six short columns beside the filter panel fit a laptop screen: the reason sits under the
    # result, direction and method share a cell (the event is a filter). Names are methods, not
    # the foreign keys themselves, because the admin never wraps a foreign key's cell.
    list_display = ["scanned", "who", "where", "outcome", "how", "tablet"]
    list_display_links = ["scanned"]
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
    fields = [
        "scan_id",
        "event",
        "participant",
        "gate",
        "device",
        "scanned",
        "received",
        "method",
        "direction",
        "result",
        "reason",
        "location",
        "device_info",
        "request_fingerprint",
        "response_status",
        "response_body",
    ]
    readonly_fields = fields

    scanned = event_time_column("scanned_at", "Scanned at")

    received = event_time_column("received_at", "Received at")

    @admin.display(description="Participant", ordering="participant__name")
    def who(self, obj: Scan):
        return obj.participant.name if obj.participant else "–"

    @admin.display(description="Device", ordering="device__name")
    def tablet(self, obj: Scan):
        return obj.device.name if obj.device else "–"

    @admin.display(description="Gate", ordering="gate__code")
    def where(self, obj: Scan):
        return obj.gate.name if obj.gate else "–"

    @admin.display(description="Result", ordering="result")
    def outcome(self, obj: Scan):
        color = RESULT_COLORS.get(obj.result, "inherit")
        label = format_html('<span style="color: {}">{}</span>', color, obj.get_result_display())
        if not obj.reason:
            return label
        return format_html('{}<br><small class="quiet">{}</small>', label, obj.reason)

    @admin.display(description="Direction · method")
    def how(self, obj: Scan):
        return f"{obj.get_direction_display()} · {obj.get_method_display()}"


# The check-in part of the participant admin lives in its own module; importing it registers it.
from attendance import checkin_admin  # noqa: E402, F401
