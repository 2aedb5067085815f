"""Event lifecycle: draft → published → live → closed → archived, and published → draft."""

import pytest

from events.models import Event, EventStatusChange
from events.services import IllegalStatusTransition, change_event_status
from integrations.outbox import OutboxEvent
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Event.Status


def test_event_walks_the_whole_lifecycle_and_each_move_is_recorded():
    organiser = UserFactory()
    event = EventFactory(status=Status.DRAFT)
    for to_status in [Status.PUBLISHED, Status.LIVE, Status.CLOSED, Status.ARCHIVED]:
        change_event_status(event=event, to_status=to_status, changed_by=organiser)
        assert event.status == to_status
        assert event.status_changed_by == organiser
        assert event.status_changed_at is not None
    moves = list(EventStatusChange.objects.filter(event=event).order_by("id").values_list("from_status", "to_status"))
    assert moves == [("draft", "published"), ("published", "live"), ("live", "closed"), ("closed", "archived")]


def test_published_event_can_go_back_to_draft():
    event = EventFactory(status=Status.PUBLISHED)
    change_event_status(event=event, to_status=Status.DRAFT)
    assert Event.objects.get(pk=event.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (Status.DRAFT, Status.LIVE),
        (Status.LIVE, Status.DRAFT),
        (Status.LIVE, Status.PUBLISHED),
        (Status.CLOSED, Status.LIVE),
        (Status.ARCHIVED, Status.CLOSED),
        (Status.DRAFT, Status.ARCHIVED),
        (Status.LIVE, "nonsense"),
    ],
)
def test_illegal_move_raises_and_changes_nothing(from_status, to_status):
    event = EventFactory(status=from_status)
    with pytest.raises(IllegalStatusTransition) as raised:
        change_event_status(event=event, to_status=to_status)
    assert raised.value.code == "illegal_status_transition"
    assert from_status in raised.value.message
    assert Event.objects.get(pk=event.pk).status == from_status
    assert not EventStatusChange.objects.filter(event=event).exists()
    assert not OutboxEvent.objects.filter(event_id=event.pk).exists()


def test_status_change_publishes_a_domain_event_in_the_same_transaction():
    event = EventFactory(status=Status.DRAFT)
    change_event_status(event=event, to_status=Status.PUBLISHED)
    outbox = OutboxEvent.objects.get(event_id=event.pk)
    assert outbox.topic == "event.status_changed"
    assert outbox.payload["from"] == "draft"
    assert outbox.payload["to"] == "published"
