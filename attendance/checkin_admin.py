"""The check-in part of the participant admin: status column and filter, scans inline, export columns.

Participants sit below attendance and may not import Scan, so attendance adds these to the
participant admin through the extension point participants/admin.py offers (attendance/admin.py
imports this module, which registers them). Every value comes from attendance/selectors.py, the
one definition of checked in / inside now / no-show.
"""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html
from import_export.fields import Field

from attendance import selectors
from attendance.models import Scan
from attendance.selectors import CheckInStatus
from events.access import OrganizationScopedInline, ReadOnlyAdminMixin
from events.local_time import event_local_time, event_local_time_html, event_time_column
from participants.admin import ParticipantAdminExtension, extend_participant_admin

PARTICIPANT_SCANS_SHOWN = 100


@admin.display(description="Check-in")
def participant_checkin(participant):
    label = CheckInStatus(participant.checkin_status).label
    if participant.last_scan_at is None:
        return label
    return format_html(
        '{}<br><span class="quiet">{}</span>', label, event_local_time_html(participant.last_scan_at, participant.event)
    )


class CheckInStatusFilter(admin.SimpleListFilter):
    title = "check-in"
    parameter_name = "checkin"

    def lookups(self, request, model_admin):
        return [
            (CheckInStatus.CHECKED_IN, "Checked in (inside or left)"),
            (CheckInStatus.INSIDE, CheckInStatus.INSIDE.label),
            (CheckInStatus.NO_SHOW, CheckInStatus.NO_SHOW.label),
        ]

    def queryset(self, request, queryset):
        if self.value() in CheckInStatus.values:
            return selectors.filter_by_checkin_status(queryset, self.value())
        return queryset


class NewestScansFormSet(BaseInlineFormSet):
    # A badge that sits on a BLE reader can collect thousands of duplicate scans; the page shows
    # the newest ones, the Scans list has every one.
    def get_queryset(self):
        if not hasattr(self, "_newest"):
            self._newest = super().get_queryset()[:PARTICIPANT_SCANS_SHOWN]
        return self._newest


class ParticipantScanInline(ReadOnlyAdminMixin, OrganizationScopedInline, admin.TabularInline):
    model = Scan
    fk_name = "participant"
    formset = NewestScansFormSet
    verbose_name_plural = f"Scans (newest first, up to {PARTICIPANT_SCANS_SHOWN})"
    fields = ["scanned", "gate", "direction", "method", "result", "reason"]
    readonly_fields = fields
    ordering = ["-scanned_at"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("gate", "event")

    scanned = event_time_column("scanned_at", "Time")


def _local(value_of):
    return lambda participant: event_local_time(value_of(participant), participant.event)


extend_participant_admin(
    ParticipantAdminExtension(
        annotate=selectors.with_checkin_status,
        annotate_export=selectors.with_checkin_history,
        list_display=[participant_checkin],
        list_filter=[CheckInStatusFilter],
        change_fields=[participant_checkin],
        inlines=[ParticipantScanInline],
        export_columns={
            "checkin_status": Field(
                column_name="checkin_status", dehydrate_method=lambda p: CheckInStatus(p.checkin_status).label
            ),
            "first_entry": Field(column_name="first_entry", dehydrate_method=_local(lambda p: p.first_entry_at)),
            "last_exit": Field(column_name="last_exit", dehydrate_method=_local(lambda p: p.last_exit_at)),
            "entries": Field(column_name="entries", dehydrate_method=lambda p: p.entry_count),
            "last_gate": Field(column_name="last_gate", dehydrate_method=lambda p: p.last_gate_name or ""),
        },
    )
)
