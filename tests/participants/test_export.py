"""The participant export, downloaded from the admin: Excel-safe encoding, phone cells, check-in columns."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.urls import reverse

from attendance.models import Scan
from events.models import Membership
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory, ScanFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV, XLSX = "0", "1"
OPENS = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
CHECKIN_COLUMNS = ("checkin_status", "first_entry", "last_exit", "entries", "last_gate")


@pytest.fixture
def organiser(client):
    event = EventFactory(timezone="Asia/Seoul", starts_at=OPENS - timedelta(hours=1), ends_at=OPENS + timedelta(hours=10))
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.MANAGER)
    client.force_login(user)
    return event, client


def download(client, file_format, columns=("name", "phone")):
    response = client.post(
        reverse("admin:participants_participant_export"),
        {"format": file_format, "resource": "0", **{f"participantresource_{c}": "on" for c in columns}},
    )
    assert response.status_code == 200, response.content[:500]
    return response


def csv_rows(response) -> dict[str, dict]:
    return {row["name"]: row for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}


def test_csv_starts_with_a_bom_so_excel_reads_korean_as_utf8(organiser):
    event, client = organiser
    ParticipantFactory(event=event, name="김민수", organization="서울대학교")
    response = download(client, CSV, columns=("name", "organization"))
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content[3:].decode("utf-8").splitlines()[1] == "김민수,서울대학교"


def test_xlsx_phone_is_a_text_cell_without_the_formula_guard(organiser):
    event, client = organiser
    ParticipantFactory(event=event, name="김민수", phone="+821066636259")
    sheet = openpyxl.load_workbook(io.BytesIO(download(client, XLSX).content)).active
    header = [cell.value for cell in sheet[1]]
    phone = sheet.cell(row=2, column=header.index("phone") + 1)
    assert phone.value == "+821066636259"
    assert phone.data_type == "s"


def test_csv_phone_keeps_the_formula_guard(organiser):
    event, client = organiser
    ParticipantFactory(event=event, name="김민수", phone="+821066636259")
    assert csv_rows(download(client, CSV))["김민수"]["phone"] == "'+821066636259"


def test_xlsx_still_guards_free_text_that_looks_like_a_formula(organiser):
    event, client = organiser
    ParticipantFactory(event=event, name='=HYPERLINK("http://evil","x")', phone="+821066636259")
    sheet = openpyxl.load_workbook(io.BytesIO(download(client, XLSX).content)).active
    assert sheet.cell(row=2, column=1).value == '\'=HYPERLINK("http://evil","x")'


def scan(participant, gate, minutes, direction=Scan.Direction.ENTRY, result=Scan.Result.ACCEPTED):
    return ScanFactory(
        event=participant.event,
        participant=participant,
        gate=gate,
        scanned_at=OPENS + timedelta(minutes=minutes),
        direction=direction,
        result=result,
        reason="" if result == Scan.Result.ACCEPTED else "duplicate_scan",
    )


def test_export_carries_checkin_columns_in_event_time(organiser):
    event, client = organiser
    main, side = GateFactory(event=event, name="Main Hall"), GateFactory(event=event, name="Side Door")
    returned = ParticipantFactory(event=event, name="김민수")
    scan(returned, main, 10)
    scan(returned, main, 11, result=Scan.Result.DUPLICATE)  # not an entry
    scan(returned, side, 70, Scan.Direction.EXIT)
    scan(returned, side, 95)
    left = ParticipantFactory(event=event, name="이서연")
    scan(left, main, 20)
    scan(left, side, 130, Scan.Direction.EXIT)
    ParticipantFactory(event=event, name="박지훈")

    rows = csv_rows(download(client, CSV, columns=("name", *CHECKIN_COLUMNS)))
    assert {c: rows["김민수"][c] for c in CHECKIN_COLUMNS} == {
        "checkin_status": "Inside now",
        "first_entry": "2026-05-01 09:10 KST",
        "last_exit": "2026-05-01 10:10 KST",
        "entries": "2",
        "last_gate": "Side Door",
    }
    assert rows["이서연"]["checkin_status"] == "Checked in"
    assert rows["이서연"]["last_exit"] == "2026-05-01 11:10 KST"
    assert {c: rows["박지훈"][c] for c in CHECKIN_COLUMNS} == {
        "checkin_status": "No-show",
        "first_entry": "",
        "last_exit": "",
        "entries": "0",
        "last_gate": "",
    }


def test_export_follows_the_lists_checkin_filter(organiser):
    event, client = organiser
    gate = GateFactory(event=event)
    scan(ParticipantFactory(event=event, name="김민수"), gate, 10)
    ParticipantFactory(event=event, name="박지훈")
    response = client.post(
        reverse("admin:participants_participant_export") + "?checkin=no_show",
        {"format": CSV, "resource": "0", "participantresource_name": "on"},
    )
    assert set(csv_rows(response)) == {"박지훈"}
