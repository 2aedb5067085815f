"""The import pipeline through its services: decoding, headers, validation, dedupe, upsert, job."""

import datetime as dt

import pytest

from integrations.outbox import OutboxEvent
from participants.importing.pipeline import preview_import, run_import, start_import
from participants.models import ImportJob, Participant
from tests.factories import EventFactory, ParticipantFactory, UserFactory
from tests.participants.files import write_csv, write_xlsx

pytestmark = pytest.mark.django_db(transaction=False)


def import_file(event, path, **kwargs):
    job = start_import(event=event, path=path, filename=path.name, enqueue=False, **kwargs)
    run_import(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def event():
    return EventFactory(
        starts_at=dt.datetime(2026, 9, 1, 1, tzinfo=dt.UTC), ends_at=dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC), token_prefix="TCF"
    )


def test_valid_rows_are_imported_and_invalid_rows_reported(event, tmp_path):
    path = write_csv(
        tmp_path / "people.csv",
        [
            ["Name", "Email", "Phone", "Birth Date"],
            ["  Kim Minsu ", "Minsu@Example.COM", "010-1234-5678", "1990-03-04"],
            ["X", "bad-email", "12", "2020-01-01"],
            ["Lee Jieun", "jieun@example.com", "", ""],
        ],
    )
    job = import_file(event, path)
    assert (job.status, job.total_rows, job.created_count, job.error_count, job.progress) == ("completed", 3, 2, 1, 100)
    kim = Participant.objects.get(event=event, email="minsu@example.com")
    assert (kim.name, kim.phone, kim.birth_date) == ("Kim Minsu", "+821012345678", dt.date(1990, 3, 4))
    assert len(kim.token) == 30 and kim.import_job == job
    codes = sorted((e.row, e.column, e.code) for e in job.row_errors.all())
    assert codes == [
        (3, "birth_date", "too_young"),
        (3, "email", "invalid_email"),
        (3, "name", "name_too_short"),
        (3, "phone", "invalid_phone"),
    ]


def test_korean_cp949_file_with_characters_euc_kr_cannot_encode(event, tmp_path):
    path = write_csv(
        tmp_path / "korean.csv",
        [
            ["이름", "이메일", "전화번호", "소속", "부서", "직급", "생년월일", "지역"],
            ["김똠뷁", "ddom@example.com", "01098765432", "가나다", "개발", "과장", "1985.07.01", "서울"],
        ],
        encoding="cp949",
    )
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("euc_kr")  # CP949's extension: EUC-KR cannot read these names
    job = import_file(event, path)
    person = Participant.objects.get(event=event)
    assert (job.created_count, person.name, person.organization, person.position, person.region) == (
        1,
        "김똠뷁",
        "가나다",
        "과장",
        "서울",
    )
    assert person.birth_date == dt.date(1985, 7, 1)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_bom_and_quoted_fields_with_commas_and_newlines(event, tmp_path, delimiter):
    path = tmp_path / "quoted.csv"
    write_csv(
        path,
        [["email", "name", "organization", "Note"], ["a@example.com", "Park, Jisoo", "Line one\nline two; and, more", "vip"]],
        encoding="utf-8-sig",
        delimiter=delimiter,
    )
    import_file(event, path)
    person = Participant.objects.get(event=event)
    assert (person.name, person.organization, person.metadata) == (
        "Park, Jisoo",
        "Line one\nline two; and, more",
        {"Note": "vip"},
    )


def test_xlsx_is_imported_with_cell_types(event, tmp_path):
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [
            ["이름", "이메일", "전화번호", "생년월일", "Shirt"],
            ["Choi Yuna", "yuna@example.com", 1055556666, dt.datetime(1999, 12, 31), "M"],
        ],
    )
    job = import_file(event, path)
    person = Participant.objects.get(event=event)
    assert job.created_count == 1
    assert (person.phone, person.birth_date, person.metadata) == ("+821055556666", dt.date(1999, 12, 31), {"Shirt": "M"})


def test_reimport_updates_changed_fields_and_creates_nothing_twice(event, tmp_path):
    first = write_csv(
        tmp_path / "a.csv",
        [["name", "email", "phone"], ["Kim A", "a@example.com", "01011112222"], ["Kim B", "b@example.com", ""]],
    )
    import_file(event, first)
    tokens = dict(Participant.objects.values_list("email", "token"))
    second = write_csv(
        tmp_path / "b.csv",
        [
            ["name", "email", "phone"],
            ["Kim A", "A@example.com", ""],
            ["Kim Bee", "b@example.com", ""],
            ["Kim B dup", "B@EXAMPLE.com", ""],
        ],
    )
    job = import_file(event, second)
    # Kim A matches with nothing changed (unchanged); "Kim B dup" repeats row 3 of this file (duplicate).
    assert (job.created_count, job.updated_count, job.unchanged_count, job.duplicate_count, job.error_count) == (0, 1, 1, 1, 0)
    assert Participant.objects.count() == 2
    assert dict(Participant.objects.values_list("email", "token")) == tokens
    assert Participant.objects.get(email="a@example.com").phone == "+821011112222"  # an empty cell never erases
    assert Participant.objects.get(email="b@example.com").name == "Kim Bee"


def test_existing_participant_with_other_case_email_is_updated_not_duplicated(event, tmp_path):
    ParticipantFactory(event=event, email="Mixed@Example.com", name="Old Name")
    job = import_file(event, write_csv(tmp_path / "a.csv", [["name", "email"], ["New Name", "mixed@example.com"]]))
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Participant.objects.get(event=event).name == "New Name"


def test_external_id_owned_by_another_email_is_a_row_error(event, tmp_path):
    ParticipantFactory(event=event, email="owner@example.com", external_id="R-1")
    job = import_file(
        event, write_csv(tmp_path / "a.csv", [["name", "email", "external id"], ["Kim Other", "other@example.com", "R-1"]])
    )
    assert (job.created_count, job.error_count) == (0, 1)
    assert job.row_errors.get().code == "duplicate_external_id"


def test_import_publishes_per_participant_events_and_completion(event, tmp_path):
    import_file(event, write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Kim B", "b@example.com"]]))
    topics = list(OutboxEvent.objects.filter(event_id=event.pk).values_list("topic", flat=True))
    assert topics == ["participant.registered", "participant.registered", "import.completed"]
    assert OutboxEvent.objects.filter(topic="import.completed").get().payload["created"] == 2


def test_send_tickets_marks_created_participants_pending_and_due(event, tmp_path):
    ParticipantFactory(event=event, email="old@example.com")
    path = write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Old One", "old@example.com"]])
    import_file(event, path, send_tickets=True)
    new, old = Participant.objects.get(email="a@example.com"), Participant.objects.get(email="old@example.com")
    assert new.email_status == "pending" and new.email_next_attempt_at is not None
    assert old.email_status == "unsent"


def test_chunks_commit_with_resume_point(event, tmp_path, settings):
    settings.IMPORT_CHUNK_ROWS = 3
    rows = [["name", "email"]] + [[f"Person {i}", f"p{i}@example.com"] for i in range(10)]
    job = import_file(event, write_csv(tmp_path / "a.csv", rows))
    assert (job.rows_done, job.created_count, job.attempts) == (10, 10, 1)


def test_resuming_from_a_committed_chunk_continues_exactly(event, tmp_path, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    rows = [["name", "email"]] + [[f"Person {i}", f"p{i % 4}@example.com"] for i in range(8)]
    path = write_csv(tmp_path / "a.csv", rows)
    uninterrupted = import_file(EventFactory(), path)
    job = start_import(event=event, path=path, filename="a.csv", enqueue=False)
    # A worker committed two chunks and died: the job is "running" with a resume point.
    job.status, job.rows_done, job.created_count = ImportJob.Status.RUNNING, 4, 4
    job.save()
    for i in range(4):
        Participant.objects.create(event=event, name=f"Person {i}", email=f"p{i}@example.com", import_job=job)
    run_import(job_id=job.pk)
    job.refresh_from_db()
    fields = ("created_count", "updated_count", "unchanged_count", "duplicate_count", "error_count", "rows_done", "status")
    assert [getattr(job, f) for f in fields] == [getattr(uninterrupted, f) for f in fields]
    assert Participant.objects.filter(event=event).count() == 4


def test_preview_tells_what_each_row_will_do_and_writes_nothing(event, tmp_path):
    ParticipantFactory(event=event, email="same@example.com", name="Same Person", phone="")
    ParticipantFactory(event=event, email="change@example.com", name="Old Name", phone="")
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["name", "email"],
            ["New Person", "new@example.com"],
            ["Same Person", "same@example.com"],
            ["New Name", "change@example.com"],
            ["Again", "new@example.com"],
            ["Bad", "nope"],
        ],
    )
    before = (Participant.objects.count(), ImportJob.objects.count(), OutboxEvent.objects.count())
    preview = preview_import(event=event, path=path, filename="a.csv")
    assert [(r.number, r.action) for r in preview.sample] == [
        (2, "create"),
        (3, "unchanged"),
        (4, "update"),
        (5, "duplicate"),
        (6, "error"),
    ]
    assert preview.sample[3].duplicate_of == 2
    assert preview.counts == {"create": 1, "update": 1, "unchanged": 1, "duplicate": 1, "error": 1}
    assert [(e.row, e.column, e.code) for e in preview.errors] == [(6, "email", "invalid_email")]
    assert (Participant.objects.count(), ImportJob.objects.count(), OutboxEvent.objects.count()) == before


def test_sweeper_requeues_only_stale_jobs(event, tmp_path, settings, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from participants.importing.pipeline import sweep_stale_imports

    path = write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"]])
    stale = start_import(event=event, path=path, filename="a.csv", enqueue=False)
    fresh = start_import(event=EventFactory(), path=path, filename="a.csv", enqueue=False)
    ImportJob.objects.filter(pk=stale.pk).update(status="running", heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    ImportJob.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    assert sweep_stale_imports() == [stale.pk]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.created_count, fresh.status) == ("completed", 1, "running")
    assert "participants.tasks.sweep_stale_import_jobs" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_a_second_run_of_a_completed_job_changes_nothing(event, tmp_path):
    job = import_file(event, write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"]]))
    before = (Participant.objects.count(), OutboxEvent.objects.count())
    assert run_import(job_id=job.pk) is None
    assert (Participant.objects.count(), OutboxEvent.objects.count()) == before


def test_send_tickets_emails_new_participants_after_commit_and_tells_the_organiser(
    event, tmp_path, django_capture_on_commit_callbacks, mailoutbox
):
    from tests.factories import UserFactory

    organiser = UserFactory(email="organiser@example.com")
    ParticipantFactory(event=event, email="old@example.com")
    path = write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Old One", "old@example.com"]])
    job = start_import(event=event, path=path, filename="a.csv", enqueue=False, send_tickets=True, created_by=organiser)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_import(job_id=job.pk)
    assert mailoutbox == []  # nothing is sent before the import commits
    for callback in callbacks:
        callback()
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert recipients == ["a@example.com", "organiser@example.com"]
    assert Participant.objects.get(email="a@example.com").email_status == "sent"
    assert Participant.objects.get(email="old@example.com").email_status == "unsent"


def test_a_job_that_keeps_failing_is_marked_failed_and_can_be_retried(event, tmp_path, django_capture_on_commit_callbacks):
    from participants.importing.pipeline import MAX_ATTEMPTS, retry_import

    job = start_import(
        event=event,
        path=write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"]]),
        filename="a.csv",
        enqueue=False,
    )
    ImportJob.objects.filter(pk=job.pk).update(status="running", attempts=MAX_ATTEMPTS)
    assert run_import(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.failure_reason) == ("failed", f"Gave up after {MAX_ATTEMPTS} attempts; see the worker logs.")
    with django_capture_on_commit_callbacks(execute=True):
        retry_import(job=job)
    job.refresh_from_db()
    assert (job.status, job.created_count, job.attempts) == ("completed", 1, 1)


def test_a_lost_file_fails_the_job_with_a_reason(event, tmp_path):
    job = start_import(
        event=event,
        path=write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"]]),
        filename="a.csv",
        enqueue=False,
    )
    job.file.storage.delete(job.file.name)
    run_import(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.failure_reason) == ("failed", "The uploaded file is missing from storage.")
    assert not Participant.objects.filter(event=event).exists()


def test_reimporting_an_unchanged_file_counts_rows_as_unchanged_not_duplicates(
    event, tmp_path, django_capture_on_commit_callbacks, mailoutbox
):
    path = write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Kim B", "b@example.com"]])
    import_file(event, path)
    preview = preview_import(event=event, path=path, filename="a.csv")
    assert [r.action for r in preview.sample] == ["unchanged", "unchanged"]
    assert (preview.counts["unchanged"], preview.counts["duplicate"]) == (2, 0)

    organiser = UserFactory(email="organiser@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file(event, path, created_by=organiser)

    assert (job.created_count, job.updated_count, job.unchanged_count, job.duplicate_count) == (0, 0, 2, 0)
    completed = OutboxEvent.objects.filter(topic="import.completed").latest("id").payload
    assert (completed["unchanged"], completed["duplicates"]) == (2, 0)
    (report,) = [m for m in mailoutbox if m.to == ["organiser@example.com"]]
    assert "변경 없음: 2" in report.body and "중복: 0" in report.body  # the event speaks Korean (the default)
