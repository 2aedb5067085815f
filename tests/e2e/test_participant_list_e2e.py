"""The participant list, with its check-in column, fits a laptop screen without horizontal scrolling."""

from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import Scan
from events.models import Membership
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_participant_list_fits_a_1400px_screen(live_server, laptop, admin_login, screenshots):
    organiser = UserFactory(username="organiser")
    event = EventFactory(name="Seoul International Developer Conference 2026", slug="seoul-international-dev-conf-2026")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    gate = GateFactory(event=event, code="main-entrance", name="Main Entrance (Hall A)")
    now = timezone.now()
    for n in range(12):
        participant = ParticipantFactory(
            event=event,
            name=f"김민수 Kim Minsu-{n} Alexander",
            email=f"kim.minsu.alexander.{n}@very-long-company-domain-name.example.com",
            organization="Korea Advanced Institute of Science and Technology, School of Computing",
            region="Seoul Metropolitan City",
        )
        if n % 3:
            ScanFactory(event=event, participant=participant, gate=gate, scanned_at=now - timedelta(minutes=n))
        if n % 3 == 2:
            ScanFactory(event=event, participant=participant, gate=gate, direction=Scan.Direction.EXIT, scanned_at=now)

    admin_login(laptop, live_server, "organiser")
    laptop.goto(f"{live_server.url}/admin/participants/participant/")
    laptop.wait_for_selector("#result_list")
    laptop.screenshot(path=str(screenshots / "participant-list-1400.png"), full_page=True)

    assert "Inside now" in laptop.locator("#result_list").inner_text()
    assert laptop.locator("#changelist-filter").is_visible()
    scroll_width, inner_width = laptop.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"the page is {scroll_width}px wide on a {inner_width}px screen"
    # The admin puts the table in a box that scrolls sideways by itself; that must not scroll either.
    table_width, box_width = laptop.evaluate(
        "(() => { const box = document.querySelector('#changelist .results'); return [box.scrollWidth, box.clientWidth]; })()"
    )
    widths = laptop.evaluate(
        "[...document.querySelectorAll('#result_list thead th')].map(th => th.className + ':' + th.offsetWidth)"
    )
    assert table_width <= box_width, f"the table is {table_width}px wide in a {box_width}px box: {widths}"


def test_participant_page_shows_scans_newest_first_in_event_time(live_server, laptop, admin_login, screenshots):
    organiser = UserFactory(username="organiser")
    event = EventFactory(timezone="Asia/Seoul")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    gate = GateFactory(event=event, code="main-entrance", name="Main Entrance")
    participant = ParticipantFactory(event=event, name="김민수")
    now = timezone.now()
    ScanFactory(event=event, participant=participant, gate=gate, scanned_at=now - timedelta(minutes=50))
    ScanFactory(
        event=event, participant=participant, gate=gate, direction=Scan.Direction.EXIT, scanned_at=now - timedelta(minutes=5)
    )

    admin_login(laptop, live_server, "organiser")
    laptop.goto(f"{live_server.url}/admin/participants/participant/{participant.pk}/change/")
    rows = laptop.locator("#scans-group tbody tr.has_original")
    assert rows.count() == 2
    assert "Exit" in rows.nth(0).inner_text() and "Entry" in rows.nth(1).inner_text()
    assert "KST" in rows.nth(0).inner_text()
    assert "Checked in" in laptop.locator(".field-participant_checkin").inner_text()
    laptop.screenshot(path=str(screenshots / "participant-change-1400.png"), full_page=True)
