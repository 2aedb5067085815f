"""Signed webhooks against a real HTTP receiver: signature, retries, order, outages, SSRF, disabling."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from events.models import Membership
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.outbox import publish
from integrations.relay import relay_all
from integrations.webhooks import deliver_due, redeliver
from tests.factories import EventFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("webhook_settings")]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_recipes() -> list:
    """Each ```python block of docs/webhooks.md, executed as printed; returns their verify functions."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2, "the doc shows a library recipe and a standard-library recipe"
    functions = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, str(DOCS), "exec"), namespace)  # noqa: S102 - running the documented recipe is the point
        functions.append(namespace["verify_gatehouse_webhook"])
    return functions


def _endpoint(event, receiver, **kwargs) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organization=event.organization, url=receiver.url, **kwargs)


def _publish(event, n: int, topic: str = "attendance.recorded") -> None:
    with transaction.atomic():
        publish(topic=topic, event_id=event.pk, organization_id=event.organization_id, payload={"n": n})


def _deliver_until_settled(rounds: int = 20) -> None:
    for _ in range(rounds):
        deliver_due()
        if not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists():
            return


def test_the_signature_verifies_with_both_documented_recipes(receiver):
    event = EventFactory()
    endpoint = _endpoint(event, receiver)
    _publish(event, 1)
    relay_all()
    _deliver_until_settled()

    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["Webhook-Id"].startswith("msg_")
    assert headers["Webhook-Signature"].startswith("v1,")
    for verify in documented_recipes():
        document = verify(body, headers, endpoint.secret)
        assert document["type"] == "attendance.recorded"
        assert document["data"] == {"n": 1}


def test_a_tampered_body_or_a_wrong_secret_does_not_verify(receiver):
    event = EventFactory()
    endpoint = _endpoint(event, receiver)
    _publish(event, 1)
    relay_all()
    _deliver_until_settled()
    headers, body = receiver.received[0]
    other_secret = WebhookEndpoint(organization=event.organization, url=receiver.url).secret
    for verify in documented_recipes():
        with pytest.raises(Exception, match="(?i)signature"):
            verify(body.replace(b'"n":1', b'"n":2'), headers, endpoint.secret)
        with pytest.raises(Exception, match="(?i)signature"):
            verify(body, headers, other_secret)


def test_a_receiver_answering_500_twice_then_200_gets_the_event_once_more_and_the_log_shows_three_attempts(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    receiver.answers = [500, 500]
    _publish(event, 1)
    relay_all()
    _deliver_until_settled()
    deliver_due()  # nothing is due any more: no fourth request

    assert len(receiver.received) == 3
    assert len(set(receiver.webhook_ids())) == 1, "every retry carries the same webhook-id"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 3
    log = list(delivery.attempt_log.values_list("status_code", "is_success"))
    assert log == [(500, False), (500, False), (200, True)]
    first = delivery.attempt_log.first()
    assert first.response_excerpt == "answer 500"
    assert first.latency_ms >= 0


def test_retries_use_the_schedule_stored_in_the_database(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    receiver.answers = [503]
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[3600.0]):
        _publish(event, 1)
        relay_all()
        deliver_due()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=59)
        deliver_due()
        assert len(receiver.received) == 1, "not due yet: no second request"


def test_a_delivery_that_runs_out_of_retries_fails_and_the_next_one_goes_out(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    receiver.answers = [500] * 4
    _publish(event, 1)
    _publish(event, 2)
    relay_all()
    _deliver_until_settled()

    first, second = WebhookDelivery.objects.order_by("id")
    assert first.status == WebhookDelivery.Status.FAILED
    assert first.attempts == 4, "one attempt and three retries"
    assert second.status == WebhookDelivery.Status.SUCCEEDED
    assert [body["data"]["n"] for body in receiver.bodies()] == [1, 1, 1, 1, 2]


def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_up_in_order(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    receiver.stop()
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[0.0] * 50):
        for n in range(6):
            _publish(event, n)
        relay_all()
        for _ in range(3):
            deliver_due(limit=1)
        assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count() == 6
        head = WebhookDelivery.objects.order_by("id").first()
        assert head.attempts == 3 and "ConnectionError" in head.last_error
        assert not WebhookDelivery.objects.exclude(pk=head.pk).filter(attempts__gt=0).exists(), "later events wait their turn"

        receiver.start()
        _deliver_until_settled()

    assert [body["data"]["n"] for body in receiver.bodies()] == list(range(6))
    assert len(set(receiver.webhook_ids())) == 6, "each event exactly once"
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists()


def test_one_events_failing_stream_does_not_hold_back_another_events(receiver):
    first_event = EventFactory()
    second_event = EventFactory(organization=first_event.organization)
    _endpoint(first_event, receiver)
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[3600.0]):
        receiver.answers = [500]
        _publish(first_event, 1)
        relay_all()
        deliver_due()
        _publish(second_event, 2)
        relay_all()
        deliver_due()
    assert [body["data"]["n"] for body in receiver.bodies()] == [1, 2]


def test_only_active_endpoints_of_the_events_organization_that_want_the_topic_get_it(receiver):
    event = EventFactory()
    other = EventFactory()
    wanted = _endpoint(event, receiver, topics=["attendance.recorded"])
    _endpoint(event, receiver, topics=["import.completed"])
    _endpoint(event, receiver, is_active=False)
    WebhookEndpoint.objects.create(organization=other.organization, url=receiver.url)
    _publish(event, 1)
    relay_all()
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [wanted.pk]


def test_redeliver_sends_the_event_again_with_the_same_webhook_id(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    _publish(event, 1)
    relay_all()
    _deliver_until_settled()
    assert redeliver(deliveries=list(WebhookDelivery.objects.all())) == 1
    _deliver_until_settled()
    assert len(receiver.received) == 2
    assert len(set(receiver.webhook_ids())) == 1
    assert WebhookAttempt.objects.count() == 2


def test_private_destinations_are_refused_when_an_endpoint_is_saved():
    event = EventFactory()
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=False):
        for url in (
            "http://127.0.0.1:8000/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0/hook",
        ):
            endpoint = WebhookEndpoint(organization=event.organization, url=url)
            with pytest.raises(ValidationError) as refused:
                endpoint.full_clean()
            assert "not allowed" in str(refused.value), url
        ftp = WebhookEndpoint(organization=event.organization, url="ftp://8.8.8.8/hook")
        with pytest.raises(ValidationError):
            ftp.full_clean()


def test_a_public_destination_is_accepted_when_an_endpoint_is_saved():
    event = EventFactory()
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=False):
        # A literal public address: no DNS needed, and nothing is sent.
        WebhookEndpoint(organization=event.organization, url="https://93.184.215.14/hook").full_clean()


def test_a_private_destination_is_refused_again_at_send_time(receiver):
    """A name that resolved to a public address when saved may resolve privately later (DNS rebinding)."""
    event = EventFactory()
    endpoint = _endpoint(event, receiver)
    endpoint.url = receiver.url.replace("127.0.0.1", "localhost")
    endpoint.save()
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=False):
        _publish(event, 1)
        relay_all()
        deliver_due()
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert not attempt.is_success
    assert attempt.error.startswith("destination refused")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver):
    event = EventFactory()
    _endpoint(event, receiver)
    receiver.answers = [302]
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[3600.0]):
        _publish(event, 1)
        relay_all()
        deliver_due()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().last_status_code == 302
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owners_are_emailed(receiver):
    event = EventFactory()
    owner = MembershipFactory(organization=event.organization, role=Membership.Role.OWNER, user=UserFactory())
    MembershipFactory(organization=event.organization, role=Membership.Role.MANAGER, user=UserFactory())
    endpoint = _endpoint(event, receiver)
    receiver.answers = [500] * 10
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[0.0] * 10):
        _publish(event, 1)
        relay_all()
        deliver_due(limit=1)
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None and endpoint.is_active
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=24, minutes=1))
        deliver_due(limit=1)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert [message.to for message in mail.outbox] == [[owner.user.email]]
    assert endpoint.url in mail.outbox[0].subject
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING, "the event waits for the endpoint to come back"
    deliver_due()
    assert len(receiver.received) == 2, "a disabled endpoint gets nothing"


def test_an_endpoint_that_succeeds_again_is_no_longer_failing(receiver):
    event = EventFactory()
    endpoint = _endpoint(event, receiver)
    receiver.answers = [500]
    _publish(event, 1)
    relay_all()
    _deliver_until_settled()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.is_active


def test_two_senders_at_once_send_each_delivery_once_and_in_order(receiver):
    import threading

    from django.db import connection

    event = EventFactory()
    _endpoint(event, receiver)
    for n in range(30):
        _publish(event, n)
    relay_all()
    barrier = threading.Barrier(3)

    def sender():
        barrier.wait()
        try:
            for _ in range(40):
                deliver_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [body["data"]["n"] for body in receiver.bodies()] == list(range(30))


def test_old_relayed_events_are_pruned_with_their_log_unless_a_delivery_is_pending(receiver):
    from integrations.outbox import OutboxEvent
    from integrations.tasks import prune_outbox

    event = EventFactory()
    _endpoint(event, receiver)
    receiver.answers = [500]
    with override_settings(WEBHOOK_RETRY_SCHEDULE_SECONDS=[3600.0]):
        _publish(event, 1)
        _publish(event, 2)  # waits behind 1
        relay_all()
        deliver_due()
    _publish(event, 3)  # not relayed yet
    with transaction.atomic():
        _publish(EventFactory(organization=event.organization), 4)  # another event's stream: delivered
    relay_all()
    deliver_due()
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(days=31))

    assert prune_outbox() >= 1
    remaining = sorted(OutboxEvent.objects.values_list("payload__n", flat=True))
    assert remaining == [1, 2, 3], "pending deliveries keep their event; the delivered one is gone"
