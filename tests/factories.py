"""factory-boy factories for every model."""

import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from analytics.models import Alert
from attendance.models import Scan
from events.models import Event, EventStatusChange, Membership, Organization
from events.signing import generate_keypair
from gates.api_keys import display_prefix, generate_api_key, hash_api_key
from gates.models import Device, Gate
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.outbox import OutboxEvent
from participants.models import ImportJob, ImportRowError, Participant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory-boy hook signature
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MANAGER


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organization = factory.SubFactory(OrganizationFactory)
    slug = factory.Sequence(lambda n: f"event-{n}")
    name = factory.Sequence(lambda n: f"Event {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda e: e.starts_at + timedelta(hours=8))
    timezone = "Asia/Seoul"
    venue = "COEX"
    status = Event.Status.LIVE

    signing_private_key = factory.LazyAttribute(lambda e: e.keypair[0])
    signing_public_key = factory.LazyAttribute(lambda e: e.keypair[1])

    class Params:
        keypair = factory.LazyFunction(generate_keypair)


class EventStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventStatusChange

    event = factory.SubFactory(EventFactory)
    from_status = Event.Status.DRAFT
    to_status = Event.Status.PUBLISHED


class GateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gate

    event = factory.SubFactory(EventFactory)
    code = factory.Sequence(lambda n: f"gate-{n}")
    name = factory.LazyAttribute(lambda g: g.code.title())
    direction = Gate.Direction.ENTRY
    capacity_per_minute = 30


class DeviceFactory(factory.django.DjangoModelFactory):
    """`device.plain_key` holds the API key for the test to send."""

    class Meta:
        model = Device

    event = factory.SubFactory(EventFactory)
    gate = None
    name = factory.Sequence(lambda n: f"Tablet {n}")
    plain_key = factory.LazyFunction(generate_api_key)
    key_prefix = factory.LazyAttribute(lambda d: display_prefix(d.plain_key))
    key_hash = factory.LazyAttribute(lambda d: hash_api_key(d.plain_key))

    @classmethod
    def _create(cls, model_class, *args, plain_key: str, **kwargs):
        device = super()._create(model_class, *args, **kwargs)
        device.plain_key = plain_key
        return device


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    event = factory.SubFactory(EventFactory)
    name = factory.Faker("name", locale="ko_KR")
    email = factory.Sequence(lambda n: f"participant{n}@example.com")
    phone = "+821012345678"
    status = Participant.Status.REGISTERED


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    event = factory.SubFactory(EventFactory)
    file = factory.django.FileField(filename="participants.csv", data=b"name,email\nKim Minsu,minsu@example.com\n")
    original_filename = "participants.csv"


class ImportRowErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportRowError

    job = factory.SubFactory(ImportJobFactory)
    row = 2
    column = "email"
    code = "invalid_email"
    message = "Not a valid email address."


class ScanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scan

    scan_id = factory.LazyFunction(uuid.uuid4)
    event = factory.SubFactory(EventFactory)
    participant = factory.SubFactory(ParticipantFactory, event=factory.SelfAttribute("..event"))
    gate = factory.SubFactory(GateFactory, event=factory.SelfAttribute("..event"))
    scanned_at = factory.LazyFunction(timezone.now)
    result = Scan.Result.ACCEPTED


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    event_id = factory.LazyAttribute(lambda o: EventFactory().pk)
    organization_id = 1
    topic = "attendance.recorded"
    payload = factory.LazyFunction(dict)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Group {n}")


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    event = factory.SubFactory(EventFactory)
    gate = factory.SubFactory(GateFactory, event=factory.SelfAttribute("..event"))
    kind = Alert.Kind.GATE_OVERLOAD
    subject = factory.LazyAttribute(lambda a: f"gate:{a.gate.pk}")
    message = factory.LazyAttribute(lambda a: f"{a.gate.name} is at 120% of its capacity.")
    value = 1.2
    threshold = 0.8
    raised_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyAttribute(lambda a: a.raised_at)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    organization = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://hooks.example.net/gatehouse/{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery
        skip_postgeneration_save = True

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    outbox_event = factory.SubFactory(
        OutboxEventFactory,
        event_id=factory.LazyAttribute(lambda o: EventFactory(organization=o.factory_parent.endpoint.organization).pk),
        organization_id=factory.SelfAttribute("..endpoint.organization_id"),
    )
    event_id = factory.SelfAttribute("outbox_event.event_id")
    topic = factory.SelfAttribute("outbox_event.topic")
    webhook_id = factory.Sequence(lambda n: f"msg_{n}")
    status = WebhookDelivery.Status.PENDING
    next_attempt_at = factory.LazyFunction(timezone.now)
    # One logged attempt, so the delivery page's attempt inline has a row to show.
    attempt = factory.RelatedFactory("tests.factories.WebhookAttemptFactory", factory_related_name="delivery")


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    attempted_at = factory.LazyFunction(timezone.now)
    status_code = 500
    latency_ms = 120
    response_excerpt = "upstream exploded"
    is_success = False
