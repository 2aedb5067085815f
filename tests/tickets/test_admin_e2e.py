"""An organiser sends the tickets of an event from the admin, in a real browser."""

import pytest

from events.models import Membership
from participants.models import Participant
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_organiser_sends_tickets_to_everyone_not_yet_sent_and_sees_the_qr(live_server, page, admin_login, smtp_server):
    organiser = UserFactory(username="organiser")
    event = EventFactory(name="Busan Music Week")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.MANAGER)
    waiting = ParticipantFactory.create_batch(3, event=event)
    ParticipantFactory(event=event, email_status=Participant.EmailStatus.SENT)

    admin_login(page, live_server, "organiser")
    page.goto(f"{live_server.url}/admin/participants/participant/?event__id__exact={event.pk}")
    page.select_option("select[name=action]", "send_tickets_to_unsent")
    page.click("button[name=index]")  # no row ticked: the action covers the filtered list
    page.wait_for_selector(".messagelist")

    assert "Queued 3 ticket email(s)" in page.locator(".messagelist").inner_text()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(p.email for p in waiting)
    page.goto(f"{live_server.url}/admin/participants/participant/?email_status__exact=sent&event__id__exact={event.pk}")
    assert page.locator("#result_list tbody tr").count() == 4

    page.goto(f"{live_server.url}/admin/participants/participant/{waiting[0].pk}/change/")
    assert page.locator(".field-ticket_qr svg").count() == 1
    href = page.locator(".field-ticket_qr a", has_text="PNG").get_attribute("href")
    png = page.request.get(f"{live_server.url}{href}")
    assert png.status == 200
    assert png.headers["content-type"] == "image/png"
