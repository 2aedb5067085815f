"""manage.py import_participants --event SLUG FILE [--send-tickets]: the admin's import pipeline from a shell.

The job runs in this process (no worker needed) with a progress bar on stderr; the last line
on stdout is `created=N updated=N duplicates=N errors=N unchanged=N` (`unchanged` was added
last so scripts reading the first four keys keep working). A rejected file exits non-zero with
the reason.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from participants.importing.files import ImportFileRejected
from participants.importing.pipeline import run_import, start_import
from participants.models import ImportJob

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import participants from a CSV or XLSX file into an event."

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="Event slug.")
        parser.add_argument("file", help="Path to a .csv or .xlsx file.")
        parser.add_argument("--send-tickets", action="store_true", help="Queue welcome emails for new participants.")

    def handle(self, *args, event: str, file: str, send_tickets: bool, **options):
        try:
            target = Event.objects.get(slug=event)
        except Event.DoesNotExist as exc:
            raise CommandError(f"No event with slug {event!r}.") from exc
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            job = start_import(event=target, path=path, filename=path.name, send_tickets=send_tickets, enqueue=False)
        except ImportFileRejected as exc:
            raise CommandError(f"Rejected ({exc.code}): {exc.message}") from exc
        self.stderr.write(f"Import job {job.pk}: {job.total_rows} rows from {path.name}")
        finished = run_import(job_id=job.pk, on_progress=self._progress) or ImportJob.objects.get(pk=job.pk)
        self.stderr.write("")
        if finished.status != ImportJob.Status.COMPLETED:
            raise CommandError(f"Import job {job.pk} {finished.status}: {finished.failure_reason}")
        self.stdout.write(
            f"created={finished.created_count} updated={finished.updated_count} "
            f"duplicates={finished.duplicate_count} errors={finished.error_count} unchanged={finished.unchanged_count}"
        )

    def _progress(self, job: ImportJob) -> None:
        filled = BAR_WIDTH * job.rows_done // max(job.total_rows, 1)
        self.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {job.rows_done}/{job.total_rows}", ending="")
        self.stderr.flush()
