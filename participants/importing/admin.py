"""The import job pages in the admin: the job list, the job page's layout, and the upload/progress/errors/retry routes.

Registered on the admin site by participants/admin.py (the module Django's autodiscovery reads).
"""

from django.contrib import admin, messages
from django.urls import path

from events.access import OrganizationScopedAdmin
from events.local_time import event_local_time_html, event_time_column
from participants.importing import pipeline, views
from participants.models import ImportJob

FIRST_ERRORS_SHOWN = 50


@admin.display(description="Uploaded")
def uploaded_at(job: ImportJob):
    return event_local_time_html(job.created_at, job.event)


@admin.display(description="Last heartbeat")
def last_heartbeat(job: ImportJob):
    return event_local_time_html(job.heartbeat_at, job.event)


# The job page's record below its live summary: what the organiser asked for first; then, folded
# away, what only matters to whoever debugs a stuck or failed job (resume point, heartbeat,
# attempts, where the file is stored). Counters, progress and times are in the summary above.
JOB_FIELDSETS = [
    (None, {"fields": ["event", "original_filename", "created_by", "send_tickets", uploaded_at]}),
    (
        "Details for support",
        {
            "classes": ["collapse"],
            "fields": ["file", "total_rows", "rows_done", "progress", "attempts", last_heartbeat],
            "description": "How the job ran: where its file is stored, its resume point and its worker's heartbeat.",
        },
    ),
]
JOB_FIELDSET_CALLABLES = [uploaded_at, last_heartbeat]  # shown read-only, like every field of the job


class ImportJobAdmin(OrganizationScopedAdmin):
    change_form_template = "admin/participants/importjob/change_form.html"
    change_list_template = "admin/participants/importjob/change_list.html"
    list_display = [
        "original_filename",
        "event",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "unchanged_count",
        "duplicate_count",
        "error_count",
        "uploaded",
    ]
    list_filter = ["status", ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event"]

    uploaded = event_time_column("created_at", "Uploaded (event time)")

    actions = ["retry_failed"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False  # imports start from the upload page, which previews first

    def get_urls(self):
        own = [
            path("upload/", self.admin_site.admin_view(views.upload), name="participants_importjob_upload"),
            path("upload/confirm/", self.admin_site.admin_view(views.confirm), name="participants_importjob_confirm"),
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(lambda r, pk: views.progress(r, pk, self)),
                name="participants_importjob_progress",
            ),
            path(
                "<int:pk>/errors.csv",
                self.admin_site.admin_view(lambda r, pk: views.errors_csv(r, pk, self)),
                name="participants_importjob_errors",
            ),
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(lambda r, pk: views.retry(r, pk, self)),
                name="participants_importjob_retry",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "job_state": views.job_state(job) if job else None,
            "title": f"Import job: {job.original_filename}" if job else None,
            # Every field is the job's own record: nothing here to save.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            # The first errors on the page; all of them in the CSV (a file can have 100k).
            "first_errors": job.row_errors.order_by("row", "id")[:FIRST_ERRORS_SHOWN] if job else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Retry selected failed imports")
    def retry_failed(self, request, queryset):
        retried = 0
        for job in queryset.filter(status=ImportJob.Status.FAILED):
            if self.has_change_permission(request, job):
                pipeline.retry_import(job=job)
                retried += 1
        self.message_user(request, f"{retried} import(s) queued again.", messages.SUCCESS if retried else messages.WARNING)
