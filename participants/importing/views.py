"""The organiser's import pages in the admin: upload -> preview -> confirm -> job page.

Thin views over the import pipeline, wired into the admin by importing/admin.py: they stage the upload, show the preview (which writes
nothing), start the job, and serve its live progress (JSON) and its error report (CSV).
"""

import csv

from django.conf import settings
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from events.access import can_edit_organization, editable_organization_ids
from events.local_time import event_local_time
from events.models import Event
from participants.exports import neutralize_formula
from participants.importing import pipeline, staging
from participants.importing.files import ImportFileRejected
from participants.importing.forms import ImportConfirmForm, ImportUploadForm
from participants.models import ImportJob

STAGED_SALT = "participants.import.staged"
STAGED_MAX_AGE_SECONDS = 6 * 3600


def _may_import(user) -> bool:
    return user.is_active and user.is_staff and (user.is_superuser or bool(editable_organization_ids(user)))


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, "opts": ImportJob._meta, **extra}


def _sign_staged(request, staged: str, event: Event, filename: str, send_tickets: bool) -> str:
    """What confirm needs, signed so the browser can carry it but not change it."""
    payload = {"staged": staged, "event": event.pk, "filename": filename, "send_tickets": send_tickets, "user": request.user.pk}
    return signing.dumps(payload, salt=STAGED_SALT)


class UploadSizeLimit(FileUploadHandler):
    """Stops reading an upload as soon as it passes IMPORT_MAX_FILE_BYTES, before it fills a disk."""

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.IMPORT_MAX_FILE_BYTES:
            self.request.import_upload_too_large = True
            raise StopUpload(connection_reset=False)  # the rest of the body is read and discarded
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # only so the size limit is installed before the body is read; csrf_protect follows
def upload(request):
    request.upload_handlers.insert(0, UploadSizeLimit(request))
    return _upload(request)


@csrf_protect
def _upload(request):
    if not _may_import(request.user):
        raise PermissionDenied
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, user=request.user, preselected_event_id=request.GET.get("event")
    )
    if getattr(request, "import_upload_too_large", False):
        limit = settings.IMPORT_MAX_FILE_BYTES
        form.add_error("file", f"The file is larger than the limit of {limit / 1024 / 1024:.0f} MB. (file_too_large)")
    if request.method == "POST" and form.is_valid():
        event, upload_file = form.cleaned_data["event"], form.cleaned_data["file"]
        staged = staging.stage_upload(uploaded_file=upload_file)
        try:
            with staging.staged_file(staged) as path:
                preview = pipeline.preview_import(event=event, path=path, filename=upload_file.name)
        except ImportFileRejected as exc:
            staging.discard_staged(staged)
            form.add_error("file", f"{exc.message} ({exc.code})")
        else:
            key = _sign_staged(request, staged, event, upload_file.name, form.cleaned_data["send_tickets"])
            return render(
                request,
                "admin/participants/import_preview.html",
                _context(
                    request,
                    f"Preview: {upload_file.name}",
                    preview=preview,
                    event=event,
                    send_tickets=form.cleaned_data["send_tickets"],
                    confirm_form=ImportConfirmForm(initial={"staged": key}),
                    more_errors=preview.error_total - len(preview.errors),
                ),
            )
    return render(request, "admin/participants/import_upload.html", _context(request, "Import participants", form=form))


@require_POST
def confirm(request):
    form = ImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise signing.BadSignature("missing")
        staged = signing.loads(form.cleaned_data["staged"], salt=STAGED_SALT, max_age=STAGED_MAX_AGE_SECONDS)
    except signing.BadSignature:
        messages.error(request, "The upload has expired or is invalid; upload the file again.")
        return redirect("admin:participants_importjob_upload")
    event = get_object_or_404(Event, pk=staged["event"])
    if staged["user"] != request.user.pk or not can_edit_organization(request.user, event.organization_id):
        raise PermissionDenied
    try:
        with staging.staged_file(staged["staged"]) as path:
            job = pipeline.start_import(
                event=event,
                path=path,
                filename=staged["filename"],
                created_by=request.user,
                send_tickets=staged["send_tickets"],
            )
    except ImportFileRejected as exc:
        messages.error(request, exc.message)
        return redirect("admin:participants_importjob_upload")
    staging.discard_staged(staged["staged"])
    # Without a worker (embedded mode) the job ran on commit, inside this request: saying
    # "started" about a job that has already finished made organisers wait for nothing.
    job.refresh_from_db()
    if job.status == ImportJob.Status.COMPLETED:
        messages.success(request, finished_summary(job))
    elif job.status == ImportJob.Status.FAILED:
        messages.error(request, f"Import failed: {job.failure_reason}")
    else:
        messages.success(request, f"Import of {job.original_filename} started; this page follows its progress.")
    return redirect("admin:participants_importjob_change", job.pk)


def _counted(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def finished_summary(job: ImportJob) -> str:
    """`Import finished: 2 created, 0 updated, 0 unchanged, 0 duplicates, 1 error.`"""
    return (
        f"Import finished: {job.created_count} created, {job.updated_count} updated, {job.unchanged_count} unchanged, "
        f"{_counted(job.duplicate_count, 'duplicate', 'duplicates')}, {_counted(job.error_count, 'error', 'errors')}."
    )


def _visible_job(request, pk: int, model_admin) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("event"), pk=pk)
    if not model_admin.has_view_permission(request, job):
        raise PermissionDenied
    return job


def job_state(job: ImportJob) -> dict:
    duration = (job.finished_at - job.started_at).total_seconds() if job.started_at and job.finished_at else None
    return {
        "id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "rowsDone": job.rows_done,
        "total": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "duplicates": job.duplicate_count,
        "errors": job.error_count,
        "durationSeconds": round(duration, 2) if duration is not None else None,
        "startedAt": event_local_time(job.started_at, job.event),
        "finishedAt": event_local_time(job.finished_at, job.event),
        "failureReason": job.failure_reason,
        "isFinished": job.status in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED),
        "errorsUrl": reverse("admin:participants_importjob_errors", args=[job.pk]),
    }


def progress(request, pk: int, model_admin):
    return JsonResponse(job_state(_visible_job(request, pk, model_admin)))


class _Echo:
    def write(self, value):
        return value


def errors_csv(request, pk: int, model_admin):
    job = _visible_job(request, pk, model_admin)
    writer = csv.writer(_Echo())
    rows = ([neutralize_formula(cell) for cell in row] for row in pipeline.error_report_rows(job))
    # A BOM so that Excel (which organisers open this with) reads Korean values as UTF-8.
    stream = (("\ufeff" if i == 0 else "") + writer.writerow(row) for i, row in enumerate(rows))
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@require_POST
def retry(request, pk: int, model_admin):
    job = _visible_job(request, pk, model_admin)
    if not model_admin.has_change_permission(request, job):
        raise PermissionDenied
    try:
        pipeline.retry_import(job=job)
        messages.success(request, "The import was queued again; it resumes where it stopped.")
    except pipeline.ImportNotRetryable as exc:
        messages.error(request, exc.message)
    return redirect("admin:participants_importjob_change", job.pk)
