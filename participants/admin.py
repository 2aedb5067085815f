"""Organiser admin for participants and import jobs."""

from django.contrib import admin

from events.access import OrganizationScopedAdmin
from participants.models import ImportJob, ImportRowError, Participant
from participants.ticket_admin import TicketAdminMixin
from participants.tokens import normalize_token


@admin.register(Participant)
class ParticipantAdmin(TicketAdminMixin, OrganizationScopedAdmin):
    list_display = ["name", "email", "event", "status", "email_status", "organization", "created_at"]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter), "status", "email_status", "region"]
    search_fields = ["name", "email", "token", "external_id", "organization"]
    list_select_related = ["event"]
    readonly_fields = [
        "public_id",
        "token",
        "email_status",
        "email_attempts",
        "email_last_error",
        "email_sent_at",
        "created_at",
        "updated_at",
    ]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over 100k rows on every page is not worth it

    def get_search_results(self, request, queryset, search_term):
        # A printed ticket (TCF24-ABCDE-…) finds its participant exactly.
        token = normalize_token(search_term)
        if token:
            return queryset.filter(token=token), False
        return super().get_search_results(request, queryset, search_term)


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    extra = 0
    fields = ["row", "column", "code", "message", "value"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(ImportJob)
class ImportJobAdmin(OrganizationScopedAdmin):
    list_display = [
        "original_filename",
        "event",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "duplicate_count",
        "error_count",
        "created_at",
    ]
    list_filter = ["status", ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event"]
    inlines = [ImportRowErrorInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False
