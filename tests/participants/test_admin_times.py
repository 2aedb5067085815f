"""The participant page reads its times in the event's zone, the zone named, UTC on hover."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from events.models import Membership
from participants.models import Participant
from tests.factories import EventFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_change_page_times_are_event_local(client):
    event = EventFactory(timezone="Asia/Seoul")
    user = UserFactory()
    MembershipFactory(organization=event.organization, user=user, role=Membership.Role.MANAGER)
    client.force_login(user)
    participant = ParticipantFactory(event=event)
    Participant.objects.filter(pk=participant.pk).update(
        created_at=datetime(2026, 4, 1, 15, 30, tzinfo=UTC), email_sent_at=datetime(2026, 4, 2, 0, 5, tzinfo=UTC)
    )
    page = client.get(reverse("admin:participants_participant_change", args=[participant.pk])).content.decode()
    created = page.split('class="form-row field-created_at', 1)[1][:600]
    assert ">2026-04-02 00:30 KST</time>" in created and 'title="2026-04-01 15:30 UTC"' in created
    assert ">2026-04-02 09:05 KST</time>" in page.split('class="form-row field-email_sent_at', 1)[1][:600]
