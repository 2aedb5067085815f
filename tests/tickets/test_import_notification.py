"""The organiser who started an import is told by email how it ended."""

import pytest

from events.models import Event
from participants.models import ImportJob
from participants.tickets.emails import notify_import_finished
from tests.factories import EventFactory, ImportJobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_finished_import_emails_its_counts_and_the_report_link(smtp_server, django_capture_on_commit_callbacks):
    organiser = UserFactory(username="organiser", email="organiser@example.com")
    job = ImportJobFactory(
        event=EventFactory(name="Expo", language=Event.Language.ENGLISH),
        created_by=organiser,
        status=ImportJob.Status.COMPLETED,
        total_rows=120,
        created_count=100,
        updated_count=10,
        duplicate_count=5,
        error_count=5,
    )

    with django_capture_on_commit_callbacks(execute=True):
        notify_import_finished(job_id=job.pk)

    (message,) = smtp_server.messages
    assert message["To"] == "organiser@example.com"
    assert message["Subject"] == "Import finished: participants.csv (Expo)"
    body = message.get_content()
    assert "Created:    100" in body
    assert "Errors:     5" in body
    assert f"/admin/participants/importjob/{job.pk}/change/" in body


def test_a_failed_import_emails_the_reason_in_the_events_language(smtp_server, django_capture_on_commit_callbacks):
    organiser = UserFactory(username="organiser-ko", email="ko@example.com")
    job = ImportJobFactory(
        event=EventFactory(name="박람회", language=Event.Language.KOREAN),
        created_by=organiser,
        status=ImportJob.Status.FAILED,
        failure_reason="The file is not a CSV or XLSX file.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        notify_import_finished(job_id=job.pk)

    (message,) = smtp_server.messages
    assert "실패" in message["Subject"]
    assert "The file is not a CSV or XLSX file." in message.get_content()


def test_an_import_without_an_organiser_email_sends_nothing(smtp_server, django_capture_on_commit_callbacks):
    job = ImportJobFactory(created_by=None, status=ImportJob.Status.COMPLETED)

    with django_capture_on_commit_callbacks(execute=True):
        notify_import_finished(job_id=job.pk)

    assert smtp_server.messages == []
