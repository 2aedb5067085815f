"""The participant admin's search: a phone number typed any common way finds the stored E.164 number."""

import pytest
from django.urls import reverse

from events.models import Membership
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:participants_participant_changelist")


@pytest.fixture
def organiser(client):
    event = EventFactory()
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.MANAGER)
    client.force_login(user)
    ParticipantFactory(event=event, name="김민수", email="minsu@example.com", phone="+821066636259")
    ParticipantFactory(event=event, name="이서연", email="seoyeon@example.com", phone="+821012345678")
    return event, client


def found(client, query, **filters) -> set[str]:
    response = client.get(CHANGELIST, {"q": query, **filters})
    assert response.status_code == 200
    page = response.content.decode()
    return {name for name in ("김민수", "이서연") if name in page}


@pytest.mark.parametrize("typed", ["+82 10-6663-6259", "010-6663-6259", "01066636259", "+821066636259"])
def test_a_phone_number_is_found_however_it_is_typed(organiser, typed):
    _, client = organiser
    assert found(client, typed) == {"김민수"}


def test_name_and_email_search_still_work(organiser):
    _, client = organiser
    assert found(client, "서연") == {"이서연"}
    assert found(client, "minsu@example") == {"김민수"}


def test_a_national_number_is_read_in_the_filtered_events_phone_region(organiser):
    event, client = organiser
    us_event = EventFactory(organization=event.organization, phone_region="US")
    ParticipantFactory(event=us_event, name="Jane Doe", email="jane@example.com", phone="+12015550123")
    response = client.get(CHANGELIST, {"q": "(201) 555-0123", "event__id__exact": us_event.pk})
    assert "Jane Doe" in response.content.decode()
