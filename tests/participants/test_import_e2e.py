"""An organiser imports participants in a real browser: upload, preview with errors, confirm, watch, download errors."""

import csv
import io

import pytest

from events.models import Membership
from participants.models import ImportJob, Participant
from tests.factories import EventFactory, MembershipFactory, UserFactory
from tests.participants.files import write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


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
    page.wait_for_function("document.getElementById('import-status').textContent === 'completed'", timeout=60000)
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
