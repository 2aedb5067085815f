"""The participant import pipeline: preview, start, run in resumable chunks, retry, sweep.

One pipeline serves the admin, `manage.py import_participants` and the bulk API:

- `preview_import` reads and validates the whole file and tells what each row would do; it
  writes nothing.
- `start_import` refuses a bad file before anything is stored, then creates an ImportJob and
  queues it on Celery after commit.
- `run_import` (the Celery task body) streams the file and commits it in chunks of
  IMPORT_CHUNK_ROWS rows. Each chunk's participants, row errors, outbox rows, counters, the
  resume point `rows_done` and the heartbeat commit in ONE transaction, so a worker killed at
  any instant resumes exactly where the database says it stopped.
- each chunk is written by participants.upsert.write_participants (set-based, race-safe).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from events.errors import DomainError
from events.models import Event
from integrations.outbox import Topic, publish
from participants.importing.files import ImportFileRejected, ParticipantFile, open_participant_file
from participants.models import ImportJob, ImportRowError, Participant
from participants.tickets.emails import enqueue_welcome_emails, notify_import_finished
from participants.upsert import RowToWrite, existing_by_email, external_id_conflicts, merged_values, write_participants
from participants.validation import FieldError, ValidationContext, clean_participant

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The task that runs a job (participants/importing/tasks.py), by its pinned name.
PROCESS_IMPORT_JOB_TASK = "participants.tasks.process_import_job"
SKIP_HEARTBEAT_ROWS = 50_000


class Action:
    CREATE = "create"
    UPDATE = "update"
    # An existing participant the row would not change: re-importing the same file is normal,
    # and calling those rows "duplicates" made organisers look for a mistake in their file.
    UNCHANGED = "unchanged"
    # Only a row that repeats an earlier row of the same file (same email).
    DUPLICATE = "duplicate"
    ERROR = "error"


# --- classification shared by preview and run --------------------------------------------


@dataclass
class ClassifiedRow:
    number: int
    action: str  # Action.*: what the row will do, as far as the file alone can tell
    values: dict
    metadata: dict
    errors: list[FieldError]
    duplicate_of: int | None = None

    @property
    def description(self) -> str:
        """What the preview says the row will do; a duplicate names the row it repeats, so the
        organiser can find both in the sheet."""
        if self.action == Action.DUPLICATE and self.duplicate_of is not None:
            return f"Duplicate of row {self.duplicate_of} (same email)"
        return self.action


def classify_rows(parsed: ParticipantFile, *, context: ValidationContext) -> Iterable[ClassifiedRow]:
    """Validate every row and spot in-file duplicates (same email as an earlier valid row)."""
    first_row_of: dict[str, int] = {}
    for number, raw, metadata in parsed.rows():
        cleaned = clean_participant(raw, context=context)
        if cleaned.errors:
            errors = [FieldError(e.column, e.code, e.message, e.value, number) for e in cleaned.errors]
            yield ClassifiedRow(number, Action.ERROR, cleaned.values, metadata, errors)
            continue
        email = cleaned.values["email"]
        first = first_row_of.setdefault(email, number)
        if first != number:
            yield ClassifiedRow(number, Action.DUPLICATE, cleaned.values, metadata, [], duplicate_of=first)
        else:
            yield ClassifiedRow(number, Action.CREATE, cleaned.values, metadata, [])


# --- preview ---------------------------------------------------------------------------


@dataclass
class ImportPreview:
    filename: str
    total_rows: int
    headers: list[str]
    columns: dict[str, str]  # header -> field
    extra_columns: list[str]
    sample: list[ClassifiedRow]
    errors: list[FieldError]
    error_total: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.DUPLICATE, Action.ERROR), 0)
    )


def _planned_against_database(event: Event, batch: list[ClassifiedRow]) -> None:
    """Turn CREATE into UPDATE or UNCHANGED where the event already has the email (read-only)."""
    candidates = [r for r in batch if r.action == Action.CREATE]
    if not candidates:
        return
    existing = existing_by_email(event, [r.values["email"] for r in candidates])
    conflicts = external_id_conflicts(
        event=event, rows=[RowToWrite(r.number, r.values, r.metadata) for r in candidates if r.values["email"] not in existing]
    )
    for row in candidates:
        if row.number in conflicts:
            row.action, row.errors = Action.ERROR, [conflicts[row.number]]
            continue
        current = existing.get(row.values["email"])
        if current is None:
            continue
        merged = merged_values(current, row.values, row.metadata)
        row.action = Action.UPDATE if any(getattr(current, n) != v for n, v in merged.items()) else Action.UNCHANGED


def preview_import(
    *, event: Event, path: str | Path, filename: str, sample_size: int = 20, max_errors: int = 1000
) -> ImportPreview:
    """What importing the file would do, row by row and in total. Reads only; writes nothing."""
    parsed = open_participant_file(path, filename=filename)
    preview = ImportPreview(
        filename=filename,
        total_rows=parsed.total_rows,
        headers=parsed.headers,
        columns={parsed.headers[i]: name for i, name in parsed.columns.items()},
        extra_columns=list(parsed.extra_columns.values()),
        sample=[],
        errors=[],
    )
    batch: list[ClassifiedRow] = []

    def settle(rows: list[ClassifiedRow]) -> None:
        _planned_against_database(event, rows)
        for row in rows:
            preview.counts[row.action] += 1
            if len(preview.sample) < sample_size:
                preview.sample.append(row)
            preview.error_total += len(row.errors)
            room = max_errors - len(preview.errors)
            preview.errors.extend(row.errors[:room])

    for row in classify_rows(parsed, context=ValidationContext.for_event(event)):
        batch.append(row)
        if len(batch) >= settings.IMPORT_CHUNK_ROWS:
            settle(batch)
            batch = []
    settle(batch)
    return preview


# --- starting, running, retrying -------------------------------------------------------


def start_import(
    *, event: Event, path: str | Path, filename: str, created_by=None, send_tickets: bool = False, enqueue: bool = True
) -> ImportJob:
    """Check the file (ImportFileRejected, nothing stored) then create a pending job and queue it after commit."""
    parsed = open_participant_file(path, filename=filename)
    with open(path, "rb") as handle, transaction.atomic():
        job = ImportJob(
            event=event,
            created_by=created_by,
            original_filename=Path(filename).name[:255],
            send_tickets=send_tickets,
            total_rows=parsed.total_rows,
        )
        job.file.save(f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}", File(handle), save=False)
        job.save()
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    # By task name (participants/importing/tasks.py imports this module, not the other way).
    current_app.signature(PROCESS_IMPORT_JOB_TASK, args=[job_id]).apply_async(queue=settings.IMPORT_TASK_QUEUE)


class ImportNotRetryable(DomainError):
    code = "import_not_failed"
    http_status = 409


class JobTakenOver(Exception):
    """Another worker advanced or finished the job: this one stops without writing."""


@contextlib.contextmanager
def _local_copy(job: ImportJob):
    # openpyxl and the encoding check need a seekable local file; remote storage is copied once.
    try:
        yield Path(job.file.path)
        return
    except NotImplementedError:
        pass
    with job.file.open("rb") as source, tempfile.NamedTemporaryFile(suffix=Path(job.file.name).suffix) as copy:
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield Path(copy.name)


def _claim_job(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("event", "event__organization").filter(pk=job_id).first()
        if job is None or job.status in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED):
            return None
        now = timezone.now()
        stale_before = now - dt.timedelta(seconds=settings.IMPORT_STALE_AFTER_SECONDS)
        if job.status == ImportJob.Status.RUNNING and job.heartbeat_at and job.heartbeat_at >= stale_before:
            return None  # a live worker has it (a duplicate or redelivered message)
        if job.attempts >= MAX_ATTEMPTS:
            _mark_failed(job, f"Gave up after {job.attempts} attempts; see the worker logs.")
            return None
        job.status = ImportJob.Status.RUNNING
        job.attempts += 1
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "attempts", "heartbeat_at", "started_at"])
        return job


def _mark_failed(job: ImportJob, reason: str) -> None:
    job.status = ImportJob.Status.FAILED
    job.failure_reason = reason
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure_reason", "finished_at"])
    notify_import_finished(job_id=job.pk)


def run_import(*, job_id: int, on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob | None:
    """Process a job from its resume point to the end; safe to call twice or concurrently."""
    job = _claim_job(job_id)
    if job is None:
        return None
    try:
        with _local_copy(job) as path:
            # Checked in full at upload; here only what is needed to read it again.
            parsed = open_participant_file(path, filename=job.original_filename, count_rows=False)
            context = ValidationContext.for_event(job.event)
            rows_done = job.rows_done
            batch: list[ClassifiedRow] = []
            with _ChunkCommitter(job, on_progress) as committer:
                # Rows before the resume point are re-read (not re-written) so in-file
                # duplicates are recognised exactly as in an uninterrupted run.
                for index, row in enumerate(classify_rows(parsed, context=context)):
                    if index < rows_done:
                        if index % SKIP_HEARTBEAT_ROWS == SKIP_HEARTBEAT_ROWS - 1:
                            # Re-reading 400k rows takes a while: stay visibly alive for the sweeper.
                            ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
                        continue
                    batch.append(row)
                    if len(batch) >= settings.IMPORT_CHUNK_ROWS:
                        committer.submit(batch)
                        batch = []
                if batch:
                    committer.submit(batch)
        return _complete(job)
    except JobTakenOver:
        logger.info("import job %s: another worker took over", job_id)
        return None
    except (ImportFileRejected, FileNotFoundError) as exc:
        # The file passed the checks at upload; only a changed or lost file gets here, and
        # retrying cannot help. Any other error leaves the job running for the sweeper to retry.
        reason = exc.message if isinstance(exc, ImportFileRejected) else "The uploaded file is missing from storage."
        with transaction.atomic():
            _mark_failed(ImportJob.objects.select_for_update().get(pk=job_id), reason)
        return ImportJob.objects.get(pk=job_id)


class _ChunkCommitter:
    """Commits chunks in order, on a writer thread when it can, so parsing and validating the
    next chunk (Python) overlaps writing this one (Postgres): ~1.5x the throughput on 2 cores.

    The writer thread has its own database connection, so it cannot see an open transaction
    of the caller's; inside one (a caller's atomic block, or a non-transactional test) chunks
    are committed inline instead. Either way the same `_commit_chunk` runs, in file order, and
    at most two chunks wait in memory.
    """

    def __init__(self, job: ImportJob, on_progress: Callable[[ImportJob], None] | None):
        self.job = job
        self.on_progress = on_progress
        self.threaded = not connection.in_atomic_block
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _ChunkCommitter:
        if self.threaded:
            self.thread = threading.Thread(target=self._drain, name=f"import-{self.job.pk}-writer", daemon=True)
            self.thread.start()
        return self

    def submit(self, batch: list[ClassifiedRow]) -> None:
        if not self.threaded:
            self._commit(batch)
            return
        while True:
            if self.failure is not None:
                raise self.failure
            try:
                self.queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
        if exc_type is None and self.failure is not None:
            raise self.failure

    def _commit(self, batch: list[ClassifiedRow]) -> None:
        _commit_chunk(self.job, batch)
        # With DEBUG on, Django keeps every query's SQL, and a chunk's SQL carries the whole
        # chunk: a long import would hold hundreds of MB. Nothing reads that log here.
        reset_queries()
        if self.on_progress:
            self.on_progress(self.job)

    def _drain(self) -> None:
        try:
            while (batch := self.queue.get()) is not None:
                if self.failure is None:
                    self._commit(batch)
        except BaseException as exc:  # handed to the reading thread, which re-raises it
            self.failure = exc
            while self.queue.get() is not None:
                pass
        finally:
            connection.close()


def _commit_chunk(job: ImportJob, batch: list[ClassifiedRow]) -> ImportJob:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.RUNNING or locked.rows_done != job.rows_done:
            raise JobTakenOver
        to_write = [RowToWrite(r.number, r.values, r.metadata) for r in batch if r.action == Action.CREATE]
        written = write_participants(event=job.event, rows=to_write, import_job=job, send_tickets=job.send_tickets)
        errors = [e for r in batch for e in r.errors] + written.errors
        ImportRowError.objects.bulk_create(
            ImportRowError(job_id=job.pk, row=e.row, column=e.column, code=e.code, message=e.message[:500], value=e.value[:500])
            for e in errors
        )
        job.rows_done += len(batch)
        job.created_count += len(written.created_ids)
        job.updated_count += len(written.updated_ids)
        job.unchanged_count += written.unchanged
        job.duplicate_count += sum(r.action == Action.DUPLICATE for r in batch)
        job.error_count += len({e.row for e in errors})
        job.progress = min(99, job.rows_done * 100 // max(job.total_rows, 1))
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "rows_done",
                "created_count",
                "updated_count",
                "unchanged_count",
                "duplicate_count",
                "error_count",
                "progress",
                "heartbeat_at",
            ]
        )
    return job


def _complete(job: ImportJob) -> ImportJob:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.RUNNING or locked.rows_done != job.rows_done:
            raise JobTakenOver
        now = timezone.now()
        job.status = ImportJob.Status.COMPLETED
        job.progress = 100
        job.finished_at = now
        job.heartbeat_at = now
        job.save(update_fields=["status", "progress", "finished_at", "heartbeat_at"])
        publish(
            topic=Topic.IMPORT_COMPLETED,
            event_id=job.event_id,
            organization_id=job.event.organization_id,
            payload={
                "importJob": job.pk,
                "event": job.event.slug,
                "total": job.total_rows,
                "created": job.created_count,
                "updated": job.updated_count,
                "duplicates": job.duplicate_count,
                "errors": job.error_count,
                "unchanged": job.unchanged_count,
            },
        )
        if job.send_tickets:
            pending = Participant.objects.filter(import_job=job, email_status=Participant.EmailStatus.PENDING)
            # The due time is the durable hand-over (the email sweeper picks up due pending
            # sends); enqueuing after commit only makes it immediate. The send's claim makes the
            # two paths send one email.
            pending.update(email_next_attempt_at=now)
            participant_ids = list(pending.values_list("id", flat=True))
            transaction.on_commit(lambda: enqueue_welcome_emails(participant_ids, attempt=0))
        notify_import_finished(job_id=job.pk)
    return job


def retry_import(*, job: ImportJob) -> ImportJob:
    """Queue a failed job again; it resumes from its last committed chunk."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.FAILED:
            raise ImportNotRetryable("Only a failed import can be retried.")
        locked.status = ImportJob.Status.PENDING
        locked.attempts = 0
        locked.failure_reason = ""
        locked.finished_at = None
        locked.save(update_fields=["status", "attempts", "failure_reason", "finished_at"])
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


def sweep_stale_imports(*, stale_after_seconds: int | None = None) -> list[int]:
    """Re-queue running jobs whose heartbeat went stale and pending jobs whose queue message was lost."""
    stale_after = dt.timedelta(
        seconds=settings.IMPORT_STALE_AFTER_SECONDS if stale_after_seconds is None else stale_after_seconds
    )
    cutoff = timezone.now() - stale_after
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, heartbeat_at__lt=cutoff)
    pending = ImportJob.objects.filter(status=ImportJob.Status.PENDING, created_at__lt=cutoff)
    job_ids = sorted(set(running.values_list("id", flat=True)) | set(pending.values_list("id", flat=True)))
    for job_id in job_ids:
        logger.warning("import job %s is stale; re-queuing it", job_id)
        _enqueue(job_id)
    return job_ids


# --- reports ---------------------------------------------------------------------------


def error_report_rows(job: ImportJob) -> Iterable[list[str]]:
    """The job's row errors as CSV rows (row, column, message, value, code), header first."""
    yield ["row", "column", "message", "value", "code"]
    for error in job.row_errors.order_by("row", "id").iterator(chunk_size=2000):
        yield [str(error.row), error.column, error.message, error.value, error.code]
