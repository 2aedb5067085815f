"""Celery entry points for participant imports: small, idempotent, state in the database."""

from celery import shared_task

from participants import importing


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_import_job(job_id: int) -> None:
    # Safe to run twice: run_import resumes from the job's committed resume point and
    # stops if another worker advanced it.
    importing.run_import(job_id=job_id)


@shared_task(ignore_result=True)
def sweep_stale_import_jobs() -> None:
    importing.sweep_stale_imports()
