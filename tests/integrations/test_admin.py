"""The webhook admin: scoped by organization, a delivery log with attempts, redelivery, the endpoint form."""

import pytest
from django.test import override_settings

from events.models import Membership
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import EventFactory, MembershipFactory, OutboxEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    event = EventFactory()
    endpoint = WebhookEndpoint.objects.create(organization=event.organization, url="https://hooks.example.net/in")
    row = OutboxEventFactory(event_id=event.pk, organization_id=event.organization_id)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        outbox_event=row,
        event_id=event.pk,
        topic=row.topic,
        webhook_id=f"msg_{row.pk}",
        status=WebhookDelivery.Status.SUCCEEDED,
        attempts=2,
    )
    for status_code, latency_ms, excerpt in ((500, 812, "upstream exploded"), (200, 35, "ok thanks")):
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=row.created_at,
            status_code=status_code,
            latency_ms=latency_ms,
            response_excerpt=excerpt,
            is_success=status_code == 200,
        )
    return delivery


def _member(organization, role=Membership.Role.MANAGER):
    return MembershipFactory(organization=organization, role=role).user


def test_the_delivery_page_shows_every_attempt_with_code_latency_and_excerpt(client, delivery):
    client.force_login(_member(delivery.endpoint.organization))
    page = client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/").content.decode()
    for expected in ("500", "812", "upstream exploded", "200", "35", "ok thanks", delivery.webhook_id):
        assert expected in page


def test_another_organizations_member_sees_no_delivery_and_no_endpoint(client, delivery):
    client.force_login(_member(EventFactory().organization))
    assert client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/").status_code == 302
    listing = client.get("/admin/integrations/webhookendpoint/").content.decode()
    assert delivery.endpoint.url not in listing


def test_redeliver_action_queues_the_delivery_again(client, delivery):
    client.force_login(_member(delivery.endpoint.organization))
    with override_settings(OUTBOX_KICK=False):
        response = client.post(
            "/admin/integrations/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
        )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 0
    assert delivery.attempt_log.count() == 2, "the log of earlier attempts is kept"


def test_a_viewer_cannot_redeliver(client, delivery):
    client.force_login(_member(delivery.endpoint.organization, role=Membership.Role.VIEWER))
    client.post("/admin/integrations/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED


def test_an_endpoint_added_in_the_admin_gets_a_secret_shown_on_its_page_and_private_urls_are_refused(client):
    organization = EventFactory().organization
    client.force_login(_member(organization, role=Membership.Role.OWNER))
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=False):
        refused = client.post(
            "/admin/integrations/webhookendpoint/add/",
            {"organization": organization.pk, "url": "http://169.254.169.254/latest", "topics": ["attendance.recorded"]},
        )
        assert refused.status_code == 200
        assert "not allowed" in refused.content.decode()
        assert not WebhookEndpoint.objects.exists()
        created = client.post(
            "/admin/integrations/webhookendpoint/add/",
            {
                "organization": organization.pk,
                "url": "https://93.184.215.14/in",
                "topics": ["attendance.recorded"],
                "is_active": "on",
            },
        )
    assert created.status_code == 302, created.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.topics == ["attendance.recorded"]
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/").content.decode()


def test_only_editors_see_an_endpoints_secret(client, delivery):
    endpoint = delivery.endpoint
    url = f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/"
    client.force_login(_member(endpoint.organization, role=Membership.Role.VIEWER))
    page = client.get(url)
    assert page.status_code == 200
    assert endpoint.url in page.content.decode()
    assert endpoint.secret not in page.content.decode()
    client.force_login(_member(endpoint.organization, role=Membership.Role.MANAGER))
    assert endpoint.secret in client.get(url).content.decode()
