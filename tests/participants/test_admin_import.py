"""The organiser's admin import flow and the participant export, through the admin's HTTP surface."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import Membership
from integrations.outbox import OutboxEvent
from participants.exports import neutralize_formula
from participants.models import ImportJob, Participant
from tests.factories import EventFactory, ImportJobFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV_BODY = 'name,email,phone\nKim Minsu,minsu@example.com,010-1234-5678\nX,bad,\n=HYPERLINK("http://evil"),evil@example.com,\n'


@pytest.fixture
def organiser(client):
    event = EventFactory(slug="seoul-2026")
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.MANAGER)
    client.force_login(user)
    return event, client


def upload(client, event, body=CSV_BODY, name="people.csv", send_tickets=False):
    data = {"event": event.pk, "file": SimpleUploadedFile(name, body.encode() if isinstance(body, str) else body)}
    if send_tickets:
        data["send_tickets"] = "on"
    return client.post(reverse("admin:participants_importjob_upload"), data)


def test_preview_shows_actions_and_errors_and_writes_nothing(organiser):
    event, client = organiser
    response = upload(client, event)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm import" in html and "Not a valid email address" in html
    preview = response.context["preview"]
    assert [(r.number, r.action) for r in preview.sample] == [(2, "create"), (3, "error"), (4, "create")]
    assert (Participant.objects.count(), ImportJob.objects.count(), OutboxEvent.objects.count()) == (0, 0, 0)


def test_rejected_file_is_shown_on_the_upload_form(organiser):
    event, client = organiser
    response = upload(client, event, body=b"PK\x03\x04junk", name="people.csv")
    assert response.status_code == 200
    assert "zip/Excel" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_confirm_runs_the_job_and_the_job_page_reports_it(organiser, django_capture_on_commit_callbacks):
    event, client = organiser
    key = upload(client, event, send_tickets=True).context["confirm_form"].initial["staged"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:participants_importjob_confirm"), {"staged": key})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:participants_importjob_change", args=[job.pk])
    state = client.get(reverse("admin:participants_importjob_progress", args=[job.pk])).json()
    assert (state["status"], state["progress"], state["created"], state["errors"], state["total"]) == ("completed", 100, 2, 1, 3)
    assert state["durationSeconds"] is not None
    page = client.get(response.url).content.decode()
    assert "import-progress-bar" in page and "Download errors" in page and "import-job-errors" in page
    # Tasks run in-process here, so the tickets went out as soon as the import committed.
    assert Participant.objects.filter(event=event, email_status="sent").count() == 2


def test_error_report_csv_lists_row_column_message_value(organiser):
    event, client = organiser
    job = ImportJobFactory(event=event)
    job.row_errors.create(
        row=3, column="email", code="invalid_email", message="Not a valid email address.", value="=cmd|' /C calc'!A0"
    )
    response = client.get(reverse("admin:participants_importjob_errors", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows == [
        ["row", "column", "message", "value", "code"],
        ["3", "email", "Not a valid email address.", "'=cmd|' /C calc'!A0", "invalid_email"],
    ]


def test_other_organisations_jobs_are_invisible(organiser):
    _, client = organiser
    other = ImportJobFactory()
    assert client.get(reverse("admin:participants_importjob_progress", args=[other.pk])).status_code == 403
    assert client.get(reverse("admin:participants_importjob_errors", args=[other.pk])).status_code == 403


def test_failed_job_can_be_retried_and_resumes(organiser, django_capture_on_commit_callbacks):
    event, client = organiser
    job = ImportJobFactory(event=event, status=ImportJob.Status.FAILED, failure_reason="worker lost", total_rows=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:participants_importjob_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.failure_reason) == ("completed", 1, "")


def test_viewer_cannot_upload(client):
    event = EventFactory()
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)
    assert client.get(reverse("admin:participants_importjob_upload")).status_code == 403


@pytest.mark.parametrize("value", ["=1+1", "+82", "-2", "@SUM(A1)", "\tx", "\rx", "\x00x"])
def test_formula_triggers_get_a_leading_quote(value):
    assert neutralize_formula(value) == "'" + value
    assert neutralize_formula("Kim =1") == "Kim =1"


@pytest.mark.parametrize("file_format,reader", [("0", "csv"), ("1", "xlsx")])
def test_export_neutralises_formula_injection(organiser, file_format, reader):
    event, client = organiser
    ParticipantFactory(event=event, name='=HYPERLINK("http://evil","x")', email="evil@example.com", organization="@SUM(A1)")
    response = client.post(
        reverse("admin:participants_participant_export"),
        {"format": file_format, "resource": "0", **{f"participantresource_{f}": "on" for f in ("name", "organization", "email")}},
    )
    assert response.status_code == 200, response.content[:500]
    if reader == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    header, row = rows[0], rows[1]
    assert row[header.index("name")] == '\'=HYPERLINK("http://evil","x")'
    assert row[header.index("organization")] == "'@SUM(A1)"


def test_participant_admin_form_uses_the_shared_validators(organiser):
    event, client = organiser
    response = client.post(
        reverse("admin:participants_participant_add"),
        {
            "event": event.pk,
            "name": " Kim  Minsu ",
            "email": "Kim@Example.com",
            "phone": "12",
            "status": "registered",
            "metadata": "{}",
        },
    )
    assert response.status_code == 200
    assert "Not a phone number we can read: &#x27;12&#x27;" in response.content.decode()
    response = client.post(
        reverse("admin:participants_participant_add"),
        {
            "event": event.pk,
            "name": " Kim  Minsu ",
            "email": "Kim@Example.com",
            "phone": "010-1234-5678",
            "status": "registered",
            "metadata": "{}",
        },
    )
    assert response.status_code == 302
    person = Participant.objects.get(event=event)
    assert (person.name, person.email, person.phone) == ("Kim Minsu", "kim@example.com", "+821012345678")


def test_an_oversize_upload_is_cut_off_while_it_arrives(organiser, settings):
    event, client = organiser
    settings.IMPORT_MAX_FILE_BYTES = 10_000
    body = "name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(2000))
    response = upload(client, event, body=body)
    assert response.status_code == 200
    assert "larger than the limit" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert (
        not list((settings.MEDIA_ROOT / "imports" / "staging").glob("*"))
        if (settings.MEDIA_ROOT / "imports" / "staging").exists()
        else True
    )


def test_upload_still_requires_a_csrf_token(organiser):
    event, _ = organiser
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory(is_superuser=True))
    response = strict.post(
        reverse("admin:participants_importjob_upload"), {"event": event.pk, "file": SimpleUploadedFile("a.csv", b"name,email\n")}
    )
    assert response.status_code == 403


def test_import_jobs_list_links_to_the_upload_page(organiser):
    _, client = organiser
    page = client.get(reverse("admin:participants_importjob_changelist")).content.decode()
    assert reverse("admin:participants_importjob_upload") in page


def test_preview_names_the_row_a_duplicate_repeats_and_calls_known_rows_unchanged(organiser):
    event, client = organiser
    ParticipantFactory(event=event, name="Lee Known", email="known@example.com", phone="")
    body = "name,email\nKim Minsu,minsu@example.com\nLee Known,known@example.com\nKim Again,MINSU@example.com\n"
    html = upload(client, event, body=body).content.decode()
    assert "Duplicate of row 2 (same email)" in html
    assert '<td class="count-unchanged">1</td>' in html and '<td class="count-duplicate">1</td>' in html


@pytest.mark.django_db(transaction=True)
def test_confirm_says_finished_when_the_job_ran_in_process(organiser):
    # Embedded mode (no worker): the task runs on commit, inside the confirm request.
    event, client = organiser
    key = upload(client, event).context["confirm_form"].initial["staged"]
    response = client.post(reverse("admin:participants_importjob_confirm"), {"staged": key}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["Import finished: 2 created, 0 updated, 0 unchanged, 0 duplicates, 1 error."]


def test_confirm_says_started_while_the_job_is_still_queued(organiser, django_capture_on_commit_callbacks):
    event, client = organiser
    key = upload(client, event).context["confirm_form"].initial["staged"]
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not picked it up yet
        response = client.post(reverse("admin:participants_importjob_confirm"), {"staged": key})
    shown = [str(m) for m in client.get(response.url).context["messages"]]
    assert shown == ["Import of people.csv started; this page follows its progress."]


def _selected_event(html: str):
    import re

    found = re.findall(r'<option value="(\d+)" selected>', html)
    return int(found[0]) if found else None


def test_upload_from_an_events_page_preselects_that_event(organiser):
    event, client = organiser
    other = EventFactory(organization=event.organization)
    url = reverse("admin:participants_importjob_upload")
    assert _selected_event(client.get(url).content.decode()) is None  # two events: the organiser chooses
    assert _selected_event(client.get(f"{url}?event={other.pk}").content.decode()) == other.pk
    assert _selected_event(client.get(f"{url}?event={event.pk}").content.decode()) == event.pk


def test_an_event_the_user_may_not_edit_is_not_preselected(organiser):
    event, client = organiser
    EventFactory(organization=event.organization)
    stranger = EventFactory()
    url = reverse("admin:participants_importjob_upload")
    assert _selected_event(client.get(f"{url}?event={stranger.pk}").content.decode()) is None
    assert client.get(f"{url}?event=not-a-number").status_code == 200


def test_the_only_event_the_user_may_edit_is_preselected(organiser):
    event, client = organiser
    EventFactory()  # another organisation's: not offered, so the organiser's event is the only one
    html = client.get(reverse("admin:participants_importjob_upload")).content.decode()
    assert _selected_event(html) == event.pk


def test_event_page_and_event_filtered_lists_link_to_the_upload_with_the_event(organiser):
    event, client = organiser
    EventFactory(organization=event.organization)
    upload_link = f'{reverse("admin:participants_importjob_upload")}?event={event.pk}"'
    pages = [
        reverse("admin:events_event_change", args=[event.pk]),
        f"{reverse('admin:participants_participant_changelist')}?event__id__exact={event.pk}",
        f"{reverse('admin:participants_importjob_changelist')}?event__id__exact={event.pk}",
    ]
    for page in pages:
        assert upload_link in client.get(page).content.decode(), page


def _finished_job(event):
    import datetime as dt

    started = dt.datetime(2026, 5, 1, 0, 0, tzinfo=dt.UTC)
    return ImportJobFactory(
        event=event,
        status=ImportJob.Status.COMPLETED,
        progress=100,
        total_rows=120,
        rows_done=120,
        created_count=100,
        updated_count=10,
        unchanged_count=4,
        duplicate_count=3,
        error_count=3,
        attempts=2,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=90),
        heartbeat_at=started + dt.timedelta(seconds=90),
    )


def test_job_page_shows_times_in_the_events_zone(organiser):
    event, client = organiser  # Asia/Seoul, the factory's zone
    job = _finished_job(event)
    html = client.get(reverse("admin:participants_importjob_change", args=[job.pk])).content.decode()
    summary = html.split('id="import-job-live"', 1)[1].split("</div>", 1)[0]
    assert "2026-05-01 09:00 KST" in summary and "2026-05-01 09:01 KST" in summary  # started, finished
    assert 'title="2026-05-01 00:00 UTC"' in summary
    assert "90.0 s" in summary
    # No time on the page is left in the server's zone.
    record = html.split('class="module aligned collapse"', 1)[1]
    assert "a.m." not in html and "p.m." not in html and "KST" in record


def test_job_page_keeps_internals_in_a_collapsed_section(organiser):
    event, client = organiser
    job = _finished_job(event)
    html = client.get(reverse("admin:participants_importjob_change", args=[job.pk])).content.decode()
    internals_start = html.index('class="module aligned collapse"')
    internals = html[internals_start:].split("</fieldset>", 1)[0]
    for internal in ("field-last_heartbeat", "field-rows_done", "field-attempts", "field-file"):
        assert internal in internals, internal
        assert internal not in html[:internals_start], internal
    assert "<details><summary>" in internals
    # What an organiser needs comes first: the summary and the event and file it was about.
    assert html.index('id="import-job-live"') < internals_start
    assert html.index("field-original_filename") < internals_start
