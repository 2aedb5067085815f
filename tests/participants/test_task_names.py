"""Celery task names are an interface: beat entries and messages already queued address tasks by name.

The participants tasks moved from participants/tasks.py into the importing and tickets packages;
their names are pinned to what they were there, and the services that enqueue them by name name
tasks that exist.
"""

from django.conf import settings

from config.celery import app
from participants.importing import pipeline
from participants.tickets import emails

# The names in use before the move (three given explicitly, two derived by Celery from the old
# module path participants.tasks), and where each task lives now.
NAMES_BEFORE_THE_MOVE = {
    "participants.send_welcome_email": "participants.tickets.tasks",
    "participants.send_due_welcome_emails": "participants.tickets.tasks",
    "participants.send_import_notification": "participants.tickets.tasks",
    "participants.tasks.process_import_job": "participants.importing.tasks",
    "participants.tasks.sweep_stale_import_jobs": "participants.importing.tasks",
}


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker and beat do at start: autodiscovery included
    unregistered = {entry: spec["task"] for entry, spec in settings.CELERY_BEAT_SCHEDULE.items() if spec["task"] not in app.tasks}
    assert unregistered == {}


def test_participants_tasks_keep_the_names_they_had_before_the_move():
    registered = {name: app.tasks[name].run.__module__ for name in app.tasks if name.startswith("participants.")}
    assert registered == NAMES_BEFORE_THE_MOVE


def test_the_participants_beat_entries_still_name_the_old_tasks():
    tasks = {spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"participants.send_due_welcome_emails", "participants.tasks.sweep_stale_import_jobs"} <= tasks


def test_services_enqueue_by_the_names_of_registered_tasks():
    for name in (emails.SEND_WELCOME_EMAIL_TASK, emails.SEND_IMPORT_NOTIFICATION_TASK, pipeline.PROCESS_IMPORT_JOB_TASK):
        assert name in app.tasks
