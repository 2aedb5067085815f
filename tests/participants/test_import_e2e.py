"""An organiser imports participants in a real browser: upload, preview with errors, confirm, watch, download errors."""

import csv
import io

import pytest

from events.models import Membership
from participants.models import ImportJob, Participant
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory
from tests.participants.files import write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.celery_worker
def test_organiser_imports_a_csv_with_good_and_bad_rows(live_server, page, admin_login, import_worker, tmp_path):
    organiser = UserFactory(username="organiser")
    event = EventFactory(name="Busan Dev Summit")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    rows = [["이름", "이메일", "전화번호", "티셔츠"]]
    rows += [[f"참가자 {i}", f"guest{i}@example.com", f"010{i:08d}", "L"] for i in range(1, 3001)]
    rows += [["김", "broken-email", "010-1234-5678", "M"], ["Park Bad Phone", "phone@example.com", "12345", "S"]]
    path = write_csv(tmp_path / "registrations.csv", rows, encoding="utf-8-sig")
    import_worker.start()

    admin_login(page, live_server, "organiser")
    page.goto(f"{live_server.url}/admin/participants/participant/")
    page.click("text=Import participants")
    page.select_option("#id_event", label=str(event))
    page.set_input_files("#id_file", str(path))
    page.check("#id_send_tickets")
    page.click("input[name=_preview]")

    page.wait_for_selector("#import-preview-rows")
    assert page.locator(".count-create").inner_text() == "3000"
    assert page.locator(".count-error").inner_text() == "2"
    assert page.locator("#import-preview-rows tbody tr").first.inner_text().split("\t")[:2] == ["2", "create"]
    errors = page.locator("#import-preview-errors").inner_text()
    assert "3002" in errors and "Not a valid email address" in errors and "name" in errors
    assert "3003" in errors and "phone" in errors
    assert not Participant.objects.exists() and not ImportJob.objects.exists()

    page.click("input[name=_confirm]")
    page.wait_for_selector("#import-job-live")
    # The page follows the worker, then loads itself again with the final record.
    page.wait_for_selector("#import-job-live[data-finished=true]", timeout=60000)
    assert page.locator("#import-status").inner_text() == "completed"
    assert page.locator("#import-progress").inner_text() == "100"
    assert page.locator("#import-created").inner_text() == "3000"
    assert page.locator("#import-errors").inner_text() == "2"
    assert page.locator("#import-duration").inner_text().endswith(" s")

    with page.expect_download() as download_info:
        page.click("#import-errors-csv")
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0] == ["row", "column", "message", "value", "code"]
    assert {(r[0], r[1], r[4]) for r in rows[1:]} == {
        ("3002", "name", "name_too_short"),
        ("3002", "email", "invalid_email"),
        ("3003", "phone", "invalid_phone"),
    }
    assert Participant.objects.filter(event=event, email_status="pending").count() == 3000


def test_organiser_starts_from_the_event_sees_which_row_repeats_and_a_finished_banner(
    live_server, page, admin_login, tmp_path, screenshots
):
    # No worker: tasks run in-process (embedded mode), so the job is done when the page loads.
    organiser = UserFactory(username="organiser")
    event = EventFactory(name="Busan Dev Summit")
    EventFactory(organization=event.organization, name="Another Event")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    ParticipantFactory(event=event, name="Lee Known", email="known@example.com", phone="", organization="")
    rows = [
        ["name", "email", "phone"],
        ["Kim Minsu", "minsu@example.com", "010-1234-5678"],
        ["Lee Known", "known@example.com", ""],
        ["Kim Minsu again", "MINSU@example.com", ""],
        ["Park Jisoo", "jisoo@example.com", "12345"],
    ]
    path = write_csv(tmp_path / "summit.csv", rows)

    admin_login(page, live_server, "organiser")
    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/change/")
    page.click("#import-participants-link")
    page.wait_for_selector("#import-upload-form")
    assert page.locator("#id_event").input_value() == str(event.pk)  # preselected from the event's page
    page.set_input_files("#id_file", str(path))
    page.click("input[name=_preview]")

    page.wait_for_selector("#import-preview-rows")
    page.screenshot(path=str(screenshots / "preview.png"), full_page=True)
    actions = [r.split("\t")[:2] for r in page.locator("#import-preview-rows tbody tr").all_inner_texts()]
    assert actions == [["2", "create"], ["3", "unchanged"], ["4", "Duplicate of row 2 (same email)"], ["5", "error"]]
    assert page.locator(".count-unchanged").inner_text() == "1" and page.locator(".count-duplicate").inner_text() == "1"
    assert "Not a phone number we can read: '12345'" in page.locator("#import-preview-errors").inner_text()

    page.click("input[name=_confirm]")
    page.wait_for_selector("#import-job-live[data-finished=true]")
    page.screenshot(path=str(screenshots / "job-finished.png"), full_page=True)
    banner = page.locator(".messagelist").inner_text()
    assert banner == "Import finished: 1 created, 0 updated, 1 unchanged, 1 duplicate, 1 error."
    assert " KST" in page.locator("#import-finished").inner_text()
    internals = page.locator("fieldset.collapse details")
    assert not internals.evaluate("details => details.open")  # folded away until asked for
    assert not page.locator(".field-rows_done").is_visible()
    internals.locator("summary").click()
    assert page.locator(".field-rows_done").is_visible()
    page.screenshot(path=str(screenshots / "job-details-open.png"), full_page=True)
    job = ImportJob.objects.get()
    assert (job.created_count, job.unchanged_count, job.duplicate_count, job.error_count) == (1, 1, 1, 1)
