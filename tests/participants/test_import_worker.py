"""Imports on a real Celery worker and Redis: a SIGKILLed worker resumes exactly where it stopped."""

import datetime as dt
import random

import pytest
from django.db.models import Count
from django.utils import timezone

from integrations.outbox import OutboxEvent
from participants.importing.pipeline import run_import, start_import
from participants.importing.tasks import process_import_job, sweep_stale_import_jobs
from participants.models import ImportJob, Participant
from tests.factories import EventFactory
from tests.participants.files import write_csv
from tests.waiting import wait_until

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROWS = 40_000


def messy_rows(count: int) -> list[list]:
    rng = random.Random(4)
    rows = [["name", "email", "phone", "birth_date", "shirt"]]
    for i in range(count):
        email = f"person{rng.randrange(count * 9 // 10)}@example.com"  # ~10% in-file duplicates
        name = "X" if i % 97 == 0 else f"참가자 {i}"  # ~1% invalid
        rows.append([name, email, f"010{rng.randrange(10**8):08d}", "1990-01-01", rng.choice("SML")])
    return rows


def final_state(event) -> dict:
    job = ImportJob.objects.get(event=event)
    return {
        "job": [
            getattr(job, f)
            for f in (
                "status",
                "progress",
                "rows_done",
                "total_rows",
                "created_count",
                "updated_count",
                "duplicate_count",
                "error_count",
            )
        ],
        "row_errors": sorted(job.row_errors.values_list("row", "column", "code")),
        "participants": sorted(
            Participant.objects.filter(event=event).values_list(
                "email", "name", "phone", "birth_date", "metadata", "import_job_id"
            )
        ),
        "tokens": Participant.objects.filter(event=event).values("token").distinct().count(),
        "outbox": dict(
            OutboxEvent.objects.filter(event_id=event.pk).values_list("topic").annotate(n=Count("id")).values_list("topic", "n")
        ),
    }


def test_sigkilled_worker_resumes_to_the_same_state_as_an_uninterrupted_run(import_worker, tmp_path):
    path = write_csv(tmp_path / "big.csv", messy_rows(ROWS))

    reference = EventFactory(slug="reference")
    run_import(job_id=start_import(event=reference, path=path, filename="big.csv", enqueue=False).pk)

    event = EventFactory(slug="interrupted")
    job = start_import(event=event, path=path, filename="big.csv", enqueue=False)
    import_worker.start()
    process_import_job.apply_async(args=[job.pk], queue=import_worker.queue)
    wait_until(lambda: ImportJob.objects.get(pk=job.pk).rows_done >= 3 * import_worker.chunk_rows, timeout=60)
    import_worker.kill()

    killed = ImportJob.objects.get(pk=job.pk)
    assert killed.status == ImportJob.Status.RUNNING
    assert 0 < killed.rows_done < killed.total_rows, "the kill must land mid-import"
    assert Participant.objects.filter(event=event).count() == killed.created_count  # nothing half-written

    import_worker.start()
    # The sweeper re-queues a job once its heartbeat is stale (IMPORT_STALE_AFTER_SECONDS=1 in the worker).
    wait_until(
        lambda: timezone.now() - ImportJob.objects.get(pk=job.pk).heartbeat_at > dt.timedelta(seconds=1.05),
        timeout=10,
        message="the killed job's heartbeat to go stale",
    )
    sweep_stale_import_jobs.apply_async(queue=import_worker.queue)
    finished = wait_until(
        lambda: (j := ImportJob.objects.get(pk=job.pk)).status == ImportJob.Status.COMPLETED and j, timeout=120, interval=0.2
    )

    assert finished.attempts == 2
    interrupted, uninterrupted = final_state(event), final_state(reference)
    for state in (interrupted, uninterrupted):  # the import_job ids differ by construction
        state["participants"] = [p[:-1] + (p[-1] is not None,) for p in state["participants"]]
    assert interrupted == uninterrupted
    assert interrupted["tokens"] == interrupted["job"][4]
