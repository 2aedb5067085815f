"""An organiser adds a webhook endpoint in a real browser, reads the delivery log and redelivers."""

import pytest
from django.db import transaction

from events.models import Membership
from integrations.models import WebhookEndpoint
from integrations.outbox import publish
from integrations.relay import relay_all
from integrations.webhooks import deliver_due
from tests.factories import EventFactory, MembershipFactory, UserFactory
from tests.integrations.conftest import receiver, webhook_settings  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("webhook_settings")]


def test_organiser_adds_an_endpoint_reads_the_attempts_and_redelivers(live_server, page, admin_login, receiver):  # noqa: F811
    organiser = UserFactory(username="hooks-owner")
    event = EventFactory(name="Seoul Design Forum")
    MembershipFactory(organization=event.organization, user=organiser, role=Membership.Role.OWNER)

    admin_login(page, live_server, "hooks-owner")
    page.goto(f"{live_server.url}/admin/integrations/webhookendpoint/add/")
    page.select_option("#id_organization", str(event.organization_id))
    page.fill("#id_url", receiver.url)
    page.check("input[name=topics][value='attendance.recorded']")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in page.locator("body").inner_text(), "the secret is shown to hand to the receiver"

    receiver.answers = [500]
    with transaction.atomic():
        publish(topic="attendance.recorded", event_id=event.pk, organization_id=event.organization_id, payload={"n": 1})
    relay_all()
    deliver_due()
    deliver_due()

    page.goto(f"{live_server.url}/admin/integrations/webhookdelivery/")
    assert "Succeeded" in page.locator("#result_list").inner_text()
    page.click("#result_list tbody a")
    log = page.locator(".inline-group").inner_text()
    assert "500" in log and "200" in log and "answer 500" in log

    page.goto(f"{live_server.url}/admin/integrations/webhookdelivery/")
    page.check("#result_list tbody input[type=checkbox]")
    page.select_option("select[name=action]", "redeliver")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    deliver_due()
    assert len(receiver.received) == 3
    assert len(set(receiver.webhook_ids())) == 1
