"""Organiser admin for participants (and the registration of the import job pages).

Check-in state lives in attendance, above participants; it reaches these pages through
`extend_participant_admin`, so this module never imports attendance (as events/admin.py's
`register_event_inline` lets gates add to the event page).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib import admin
from django.db.models import QuerySet
from django.utils.html import format_html
from import_export import fields as export_fields
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from events.access import OrganizationScopedAdmin
from events.local_time import event_local_time_html
from events.models import Event
from participants import validation
from participants.exports import ParticipantResource
from participants.forms import ParticipantAdminForm
from participants.importing.admin import ImportJobAdmin
from participants.models import ImportJob, Participant
from participants.tickets.admin import TicketAdminMixin
from participants.tokens import normalize_token

# Times the participant page shows read in the event's zone, the zone named (events/local_time.py).
LOCAL_TIME_FIELDS = (
    "created_at",
    "updated_at",
    "email_sent_at",
    "email_last_attempt_at",
    "email_next_attempt_at",
)


def _in_event_time(name: str):
    @admin.display(description=Participant._meta.get_field(name).verbose_name.capitalize())
    def show(participant):
        return event_local_time_html(getattr(participant, name), participant.event)

    show.__name__ = name  # the row keeps the field's CSS class and place
    return show


_LOCAL_TIME_DISPLAYS = {name: _in_event_time(name) for name in LOCAL_TIME_FIELDS}


@dataclass(frozen=True)
class ParticipantAdminExtension:
    """What an app above participants adds to the participant pages and export.

    The app owns the data and its queries; this module owns the pages. `annotate` runs on every
    participant queryset the admin reads (list, change page, export), so a column costs a
    subquery in the page's one query instead of a query per row; `annotate_export` adds what only
    the export needs. `list_display` entries are callables taking a participant (they appear
    after the name), `change_fields` are shown read-only on the change page, `inlines` only on an
    existing participant's page, and `export_columns` are appended to the export.
    """

    annotate: Callable[[QuerySet], QuerySet] = lambda queryset: queryset
    annotate_export: Callable[[QuerySet], QuerySet] = lambda queryset: queryset
    list_display: Sequence[Callable] = ()
    list_filter: Sequence = ()
    change_fields: Sequence[Callable] = ()
    inlines: Sequence[type] = ()
    export_columns: Mapping[str, export_fields.Field] = field(default_factory=dict)


_extensions: list[ParticipantAdminExtension] = []


def extend_participant_admin(extension: ParticipantAdminExtension) -> None:
    """Called once by an app above participants, from its own admin module."""
    _extensions.append(extension)
    ParticipantResource.add_columns(extension.export_columns)


@admin.register(Participant)
class ParticipantAdmin(TicketAdminMixin, ExportMixin, OrganizationScopedAdmin):
    form = ParticipantAdminForm
    resource_classes = [ParticipantResource]
    formats = [base_formats.CSV, base_formats.XLSX]
    # Excel reads a CSV without a byte-order mark in the machine's ANSI code page (CP949 on a
    # Korean Windows), which garbles every Korean name; with the BOM it reads UTF-8.
    to_encoding = "utf-8-sig"
    import_export_change_list_template = "admin/participants/participant/change_list.html"
    # Few columns that wrap, so the list fits a laptop beside the navigation and the filters: the
    # email sits under the name, the ticket under the status; check-in (added by attendance)
    # follows the name. The registration time is on the change page.
    list_display = ["name_and_email", "event_name", "status_and_ticket", "organization"]
    list_display_links = ["name_and_email"]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter), "status", "email_status", "region"]
    search_fields = ["name", "email", "token", "external_id", "organization"]
    search_help_text = "Name, email, organization, external id, printed ticket or phone number (any common format)."
    list_select_related = ["event"]
    readonly_fields = [
        "public_id",
        "token",
        "import_job",
        "email_status",
        "email_attempts",
        "email_last_error",
        "email_sent_at",
        "created_at",
        "updated_at",
    ]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over 100k rows on every page is not worth it

    class Media:
        css = {"all": ["participants/participant_admin.css"]}

    @admin.display(description="Participant", ordering="name")
    def name_and_email(self, obj):
        return format_html('{}<span class="quiet">{}</span>', obj.name, obj.email)

    @admin.display(description="Event", ordering="event__name")
    def event_name(self, obj):
        return obj.event.name  # a callable, not the FK: the admin never wraps a foreign-key cell

    @admin.display(description="Status", ordering="status")
    def status_and_ticket(self, obj):
        return format_html(
            '{}<span class="quiet">Ticket: {}</span>', obj.get_status_display(), obj.get_email_status_display().lower()
        )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for extension in _extensions:
            queryset = extension.annotate(queryset)
        return queryset

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        added = [column for extension in _extensions for column in extension.list_display]
        return [*shown[:1], *added, *shown[1:]]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), *(f for extension in _extensions for f in extension.list_filter)]

    def get_readonly_fields(self, request, obj=None):
        own = [_LOCAL_TIME_DISPLAYS.get(f, f) for f in super().get_readonly_fields(request, obj)]
        return [*own, *(f for extension in _extensions for f in extension.change_fields)]

    def get_inlines(self, request, obj):
        if obj is None:
            return super().get_inlines(request, obj)  # a participant being added has no history yet
        return [*(i for extension in _extensions for i in extension.inlines), *super().get_inlines(request, obj)]

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request).select_related("event")
        for extension in _extensions:
            queryset = extension.annotate_export(queryset)
        return queryset

    def get_search_results(self, request, queryset, search_term):
        # A printed ticket (TCF24-ABCDE-…) finds its participant exactly.
        token = normalize_token(search_term)
        if token:
            return queryset.filter(token=token), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A phone number in any form people type it (+82 10-6663-6259, 010-6663-6259,
        # 01066636259) is read by the import's own normaliser and matched on the stored E.164.
        phone = self._as_phone_number(request, search_term)
        if phone:
            results = results | queryset.filter(phone=phone)
        return results, may_have_duplicates

    @staticmethod
    def _as_phone_number(request, search_term: str) -> str:
        # National numbers (010-…) are read in the filtered event's region, else the default one.
        event_id = request.GET.get("event__id__exact", "")
        event = Event.objects.filter(pk=event_id).first() if event_id.isdigit() else None
        context = validation.ValidationContext.for_event(event) if event else validation.ValidationContext()
        try:
            return validation.clean_phone(search_term, region=context.phone_region)
        except validation.FieldInvalid:
            return ""


# The import job pages belong to the import (participants/importing/admin.py); they are
# registered here because Django's admin autodiscovery reads this module.
admin.site.register(ImportJob, ImportJobAdmin)
