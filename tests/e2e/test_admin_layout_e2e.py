"""The busiest admin pages fit a laptop screen: no sideways scrolling at 1400 px in Chromium."""

import pytest
from django.urls import reverse

from attendance.models import Scan
from gates.models import Gate
from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1400, "height": 900}


@pytest.fixture
def laptop_page(browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def busy_event():
    """An event as an organiser sets one up: named gates with locations, tablets, and scans."""
    event = EventFactory(name="Seoul International Technology Conference 2026", slug="seoul-international-tech-2026")
    gates = [
        GateFactory(
            event=event,
            code=code,
            name=name,
            direction=direction,
            location="COEX Hall B, ground floor, next to the north escalators",
        )
        for code, name, direction in [
            ("main-entrance-north", "Main entrance (north, Samseong station side)", Gate.Direction.ENTRY),
            ("main-entrance-south", "Main entrance (south, Bongeunsa side)", Gate.Direction.BOTH),
            ("vip-lounge", "VIP lounge and speakers' entrance", Gate.Direction.ENTRY),
            ("exhibition-hall-exit", "Exhibition hall exit", Gate.Direction.EXIT),
        ]
    ]
    devices = [DeviceFactory(event=event, gate=gate, name=f"Tablet at {gate.name}") for gate in gates]
    for i in range(12):
        participant = ParticipantFactory(
            event=event, name=f"Participant with a rather long name number {i}", email=f"long.address.{i}@example-company.co.kr"
        )
        ScanFactory(
            event=event,
            participant=participant,
            gate=gates[i % 4],
            device=devices[i % 4],
            result=[Scan.Result.ACCEPTED, Scan.Result.DUPLICATE, Scan.Result.REJECTED][i % 3],
            reason=["", "duplicate_scan", "outside_event_window"][i % 3],
        )
    return event


# The admin wraps wide tables in boxes that scroll sideways on their own (the changelist's
# .results): the page may fit while the table inside still needs scrolling. Those count too.
SCROLLING_BOXES = """
    Array.from(document.querySelectorAll("body *"))
        .filter((el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)
"""


def _assert_fits(page, name: str, screenshots) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"the page is {scroll_width} px wide in a {inner_width} px window"
    assert page.evaluate(SCROLLING_BOXES) == []


def test_event_page_with_its_gates_fits_a_laptop_screen(live_server, laptop_page, admin_login, busy_event, screenshots):
    UserFactory(username="root", is_superuser=True)
    admin_login(laptop_page, live_server, "root")
    laptop_page.goto(live_server.url + reverse("admin:events_event_change", args=[busy_event.pk]))
    assert laptop_page.locator("#gates-group").is_visible()
    _assert_fits(laptop_page, "event-change", screenshots)


def test_scan_list_fits_a_laptop_screen(live_server, laptop_page, admin_login, busy_event, screenshots):
    UserFactory(username="root", is_superuser=True)
    admin_login(laptop_page, live_server, "root")
    laptop_page.goto(live_server.url + reverse("admin:attendance_scan_changelist"))
    assert laptop_page.locator("#result_list tbody tr").count() == 12
    _assert_fits(laptop_page, "scan-changelist", screenshots)


def test_admin_index_with_its_getting_started_panel_fits_a_laptop_screen(live_server, laptop_page, admin_login, screenshots):
    UserFactory(username="root", is_superuser=True)
    admin_login(laptop_page, live_server, "root")
    assert laptop_page.locator("#getting-started li").count() == 5
    _assert_fits(laptop_page, "admin-index", screenshots)
