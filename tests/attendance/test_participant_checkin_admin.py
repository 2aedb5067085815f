"""The participant admin shows check-in state derived from stored scans: a column, a filter, a scans inline."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attendance.models import Scan
from events.models import Membership
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory, ScanFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:participants_participant_changelist")
OPENS = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)  # 09:00 in Seoul


@pytest.fixture
def event():
    return EventFactory(timezone="Asia/Seoul", starts_at=OPENS - timedelta(hours=1), ends_at=OPENS + timedelta(hours=10))


@pytest.fixture
def organiser(client, event):
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.MANAGER)
    client.force_login(user)
    return client


def scan(participant, minutes, direction=Scan.Direction.ENTRY, result=Scan.Result.ACCEPTED, **kwargs):
    reason = "" if result == Scan.Result.ACCEPTED else "duplicate_scan"
    return ScanFactory(
        event=participant.event,
        participant=participant,
        scanned_at=OPENS + timedelta(minutes=minutes),
        direction=direction,
        result=result,
        reason=reason,
        **kwargs,
    )


@pytest.fixture
def crowd(event):
    """One participant in each state, named after it."""
    inside = ParticipantFactory(event=event, name="Inside Kim")
    scan(inside, 10)
    left = ParticipantFactory(event=event, name="Left Lee")
    scan(left, 10)
    scan(left, 70, Scan.Direction.EXIT)
    # Scans arrive late from offline tablets: "latest" is by scanned_at, not by arrival.
    came_back = ParticipantFactory(event=event, name="Back Park")
    scan(came_back, 90)
    scan(came_back, 20, Scan.Direction.EXIT)
    ParticipantFactory(event=event, name="Never Choi")
    refused = ParticipantFactory(event=event, name="Refused Jung")
    scan(refused, 10, result=Scan.Result.DUPLICATE)
    only_exit = ParticipantFactory(event=event, name="Exit Only Han")  # an exit without an entry is not a check-in
    scan(only_exit, 30, Scan.Direction.EXIT)
    return event


def rows(html: str) -> dict[str, str]:
    """Each changelist row's visible text, keyed by the participant's name."""
    body = html.split('id="result_list"', 1)[1].split("</tbody>", 1)[0]
    found = {}
    for row in body.split("<tr")[2:]:
        text = " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for name in ("Inside Kim", "Left Lee", "Back Park", "Never Choi", "Refused Jung", "Exit Only Han"):
            if name in text:
                found[name] = text
    return found


def test_the_list_shows_each_participants_checkin_status(organiser, crowd):
    shown = rows(organiser.get(CHANGELIST).content.decode())
    assert "Inside now" in shown["Inside Kim"]
    assert "Inside now" in shown["Back Park"]
    assert "Checked in" in shown["Left Lee"] and "Inside now" not in shown["Left Lee"]
    for name in ("Never Choi", "Refused Jung", "Exit Only Han"):
        assert "No-show" in shown[name], name


def test_the_status_carries_the_last_accepted_scan_in_event_time(organiser, crowd):
    shown = rows(organiser.get(CHANGELIST).content.decode())
    assert "2026-05-01 10:10 KST" in shown["Left Lee"]  # the exit at 01:10 UTC
    assert "2026-05-01 10:30 KST" in shown["Back Park"]  # the entry scanned last, though stored first


@pytest.mark.parametrize(
    "status,expected",
    [
        ("inside", {"Inside Kim", "Back Park"}),
        ("checked_in", {"Inside Kim", "Back Park", "Left Lee"}),
        ("no_show", {"Never Choi", "Refused Jung", "Exit Only Han"}),
    ],
)
def test_the_checkin_filter_selects_by_status(organiser, crowd, status, expected):
    response = organiser.get(CHANGELIST, {"checkin": status})
    assert response.status_code == 200
    assert set(rows(response.content.decode())) == expected


def test_the_list_costs_the_same_queries_for_many_participants_as_for_few(organiser, event):
    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert organiser.get(CHANGELIST).status_code == 200
        return len(captured)

    gate = GateFactory(event=event)
    for _ in range(2):
        scan(ParticipantFactory(event=event), 5, gate=gate)
    few = queries_for_list()
    for minutes in range(30):
        participant = ParticipantFactory(event=event)
        scan(participant, minutes, gate=gate)
        scan(participant, minutes + 60, Scan.Direction.EXIT, gate=gate)
    assert queries_for_list() == few


def test_the_change_page_lists_the_participants_scans_newest_first(organiser, event):
    participant = ParticipantFactory(event=event, name="Inside Kim")
    main, side = GateFactory(event=event, code="main", name="Main Hall"), GateFactory(event=event, code="side", name="Side Door")
    scan(participant, 10, gate=main)
    scan(participant, 12, gate=main, result=Scan.Result.DUPLICATE)
    scan(participant, 75, Scan.Direction.EXIT, gate=side, method=Scan.Method.MANUAL)
    other = ParticipantFactory(event=event)
    scan(other, 40, gate=side)

    page = organiser.get(reverse("admin:participants_participant_change", args=[participant.pk])).content.decode()
    inline = page.split('id="scans-group"', 1)[1].split("</fieldset>", 1)[0]
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())
    assert text.index("2026-05-01 10:15 KST") < text.index("2026-05-01 09:12 KST") < text.index("2026-05-01 09:10 KST")
    assert "09:40 KST" not in text  # another participant's scan
    assert "Side Door (side) Exit Manual Accepted" in text
    assert "Main Hall (main) Entry QR scan Duplicate duplicate_scan" in text
    assert 'title="2026-05-01 01:15 UTC"' in inline
    assert "Checked in" in page.split('class="form-row field-participant_checkin', 1)[1][:600]


def test_the_scans_inline_is_read_only_and_the_participant_still_saves(organiser, event):
    participant = ParticipantFactory(event=event, name="Inside Kim")
    recorded = scan(participant, 10)
    url = reverse("admin:participants_participant_change", args=[participant.pk])
    page = organiser.get(url).content.decode()
    inline = page.split('id="scans-group"', 1)[1].split("</fieldset>", 1)[0]
    assert not re.search(r'<(select|textarea|input(?![^>]*type="hidden"))', inline)  # nothing to edit
    assert 'name="scans-MAX_NUM_FORMS" value="0"' in page  # and nothing to add

    response = organiser.post(
        url,
        {
            "event": event.pk,
            "name": "Inside Kim Renamed",
            "email": participant.email,
            "phone": participant.phone,
            "status": participant.status,
            "metadata": "{}",
            "scans-TOTAL_FORMS": "1",
            "scans-INITIAL_FORMS": "1",
            "scans-MIN_NUM_FORMS": "0",
            "scans-MAX_NUM_FORMS": "0",
            "scans-0-id": str(recorded.pk),
            "scans-0-participant": str(participant.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    participant.refresh_from_db()
    assert participant.name == "Inside Kim Renamed"
    assert Scan.objects.get(pk=recorded.pk).result == Scan.Result.ACCEPTED


def test_adding_a_participant_has_no_scans_section(organiser):
    page = organiser.get(reverse("admin:participants_participant_add")).content.decode()
    assert 'id="scans-group"' not in page
