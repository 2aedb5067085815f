"""An organiser logs into the admin in a real browser, finds the event, opens check-in."""

import pytest
from django.core.management import call_command

from events.models import Event, Membership
from tests.factories import EventFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_organiser_opens_an_event_and_takes_it_live(live_server, page, admin_login):
    organiser = UserFactory(username="organiser")
    event = EventFactory(name="Busan Music Week", status=Event.Status.PUBLISHED)
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    EventFactory(name="Someone Else's Gala")

    admin_login(page, live_server, "organiser")
    page.get_by_role("link", name="Events", exact=True).click()
    assert page.locator("#result_list").inner_text().count("Busan Music Week") == 1
    assert "Someone Else's Gala" not in page.content()

    page.check(f"#result_list input[value='{event.pk}']")
    page.select_option("select[name=action]", "mark_live")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "moved to live" in page.locator(".messagelist").inner_text()
    event.refresh_from_db()
    assert event.status == Event.Status.LIVE

    page.click("text=Busan Music Week")
    page.wait_for_selector("#content h2, #content-main")
    assert "published" in page.locator("body").inner_text()  # the status history inline


def test_demo_admin_sees_the_seeded_demo_event(live_server, page, admin_login, tmp_path):
    call_command("seed_demo", "--participants", "30")
    credentials = tmp_path / "demo-admin"
    call_command("ensure_demo_admin", "--credentials-file", str(credentials))
    admin_login(page, live_server, "admin", credentials.read_text().strip())
    page.goto(f"{live_server.url}/admin/participants/participant/?q=guest0001")
    assert "guest0001@example.com" in page.locator("#result_list").inner_text()
