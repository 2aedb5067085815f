"""A new organiser's first hour, driven in Chromium as a person would: the path the README shows.

Landing page → sign in → the admin's getting-started panel → the event → import with a repeated
row → a tablet scans a ticket's QR text → the participant shows as inside → the dashboard index →
the event's dashboard. Each step saves a screenshot (the README's come from
`GATEHOUSE_SCREENSHOTS=docs/screenshots`). Tasks run in-process here, as in `make run`.
"""

import pytest
import requests
from django.utils import timezone

from analytics.models import EventCounter
from events.models import Event, Membership
from participants.models import Participant
from participants.tickets.qr import ticket_qr_text
from tests.factories import DeviceFactory, EventFactory, GateFactory, MembershipFactory, UserFactory
from tests.participants.files import write_csv
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_a_new_organiser_goes_from_the_landing_page_to_a_live_check_in(live_server, asgi_server, browser, tmp_path, screenshots):
    organiser = UserFactory(username="minji")
    event = EventFactory(name="Seoul Design Week 2026", slug="seoul-design-week", status=Event.Status.LIVE)
    EventFactory(name="Someone Else's Gala")  # another organisation's: never shown
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    gate = GateFactory(event=event, code="main-entrance", name="Main entrance")
    tablet = DeviceFactory(event=event, gate=gate, name="Tablet 1")
    registrations = write_csv(
        tmp_path / "registrations.csv",
        [
            ["이름", "이메일", "전화번호"],
            ["김민수", "minsu@example.com", "010-6663-6259"],
            ["이지은", "jieun@example.com", "010-1234-5678"],
            ["김민수 (again)", "MINSU@example.com", ""],
        ],
        encoding="utf-8-sig",
    )
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(15000)

    # The landing page: anonymous visitors are offered a sign-in that brings them back here.
    page.goto(f"{live_server.url}/")
    page.click("#sign-in-link")
    page.fill("#id_username", "minji")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.screenshot(path=str(screenshots / "1-landing.png"), full_page=True)
    assert "Seoul Design Week 2026" in page.inner_text("body")
    assert "Someone Else's Gala" not in page.inner_text("body")

    # The admin opens on where to start, in the order the work is done.
    page.click("#admin-link")
    page.wait_for_selector("#getting-started")
    page.screenshot(path=str(screenshots / "2-admin-getting-started.png"), full_page=True)
    steps = page.locator("#getting-started li").all_inner_texts()
    assert [step.split(" —")[0] for step in steps][:4] == [
        "Create an event",
        "Add its gates",
        "Register the gate tablets",
        "Import participants",
    ]

    # The event page, in the event's own time zone, with the way to import from it.
    page.get_by_role("link", name="Events", exact=True).first.click()
    page.click("text=Seoul Design Week 2026")
    page.wait_for_selector("#import-participants-link")
    assert "Asia/Seoul" in page.inner_text("body")
    page.screenshot(path=str(screenshots / "3-event.png"), full_page=True)

    # Import: the preview names the row a duplicate repeats; confirming says it finished.
    page.click("#import-participants-link")
    assert page.locator("#id_event").input_value() == str(event.pk)
    page.set_input_files("#id_file", str(registrations))
    page.click("input[name=_preview]")
    page.wait_for_selector("#import-preview-rows")
    page.screenshot(path=str(screenshots / "4-import-preview.png"), full_page=True)
    actions = [row.split("\t")[:2] for row in page.locator("#import-preview-rows tbody tr").all_inner_texts()]
    assert actions == [["2", "create"], ["3", "create"], ["4", "Duplicate of row 2 (same email)"]]
    page.click("input[name=_confirm]")
    page.wait_for_selector("#import-job-live[data-finished=true]")
    assert page.locator(".messagelist").inner_text().startswith("Import finished: 2 created")

    # A gate tablet sends what its camera read: the ticket's QR text.
    minsu = Participant.objects.get(event=event, email="minsu@example.com")
    answer = requests.post(
        f"{live_server.url}/api/v1/attendance/record",
        json={
            "token": ticket_qr_text(minsu),
            "gateId": "main-entrance",
            "timestamp": timezone.now().isoformat(),
            "method": "qr",
        },
        headers={"Authorization": f"Api-Key {tablet.plain_key}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["method"] == "qr_scan"

    # The participant list says who is inside; the phone finds them however it is typed.
    page.goto(f"{live_server.url}/admin/participants/participant/?q=01066636259")
    rows = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(rows) == 1 and "김민수" in rows[0] and "Inside" in rows[0]
    page.goto(f"{live_server.url}/admin/participants/participant/?event__id__exact={event.pk}")
    page.screenshot(path=str(screenshots / "5-participants.png"), full_page=True)
    page.click("text=김민수")
    page.wait_for_selector("text=main-entrance")
    assert "KST" in page.inner_text("body")
    page.screenshot(path=str(screenshots / "6-participant.png"), full_page=True)

    # The dashboards: an index of the events this organiser may watch, then the event's own.
    wait_until(lambda: EventCounter.objects.filter(pk=event.pk, checked_in=1).exists(), timeout=15)
    page.goto(f"{live_server.url}/dashboard/")
    assert page.locator("tr[data-event=seoul-design-week] .status").inner_text() == "Live"
    assert "Someone Else's Gala" not in page.inner_text("body")
    page.screenshot(path=str(screenshots / "7-dashboard-index.png"), full_page=True)
    # The live dashboard's websocket needs ASGI: the same page from daphne, signed in with the same
    # session (cookies are per host, not per port), as a second web process would serve it.
    dashboard_path = page.locator("tr[data-event=seoul-design-week] a").get_attribute("href")
    page.goto(f"http://localhost:{asgi_server.port}{dashboard_path}")  # live_server is localhost too
    page.wait_for_selector("#connection-state[data-state=live]")
    assert page.locator("#kpi-checked-in").inner_text() == "1"
    assert page.locator("#kpi-registered").inner_text() == "2"
    page.screenshot(path=str(screenshots / "8-dashboard.png"), full_page=True)
