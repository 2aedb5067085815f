"""Celery entry points of the import sub-domain: run a job, sweep stale jobs; ids in, the pipeline does the work.

The names are pinned (`name=`) to what Celery derived when these tasks lived in
participants/tasks.py: the beat entry and messages already queued address them by name.
"""

from celery import shared_task

from participants.importing import pipeline


@shared_task(name="participants.tasks.process_import_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_import_job(job_id: int) -> None:
    # Safe to run twice: run_import resumes from the job's committed resume point and
    # stops if another worker advanced it.
    pipeline.run_import(job_id=job_id)


@shared_task(name="participants.tasks.sweep_stale_import_jobs", ignore_result=True)
def sweep_stale_import_jobs() -> None:
    pipeline.sweep_stale_imports()
