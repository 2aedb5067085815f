"""Which events the refusal sweep visits: each event with uncounted refusals, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.services.counting import events_with_uncounted_refusals
from attendance.models import Scan
from tests.factories import EventFactory, GateFactory, ScanFactory

pytestmark = pytest.mark.django_db


def test_an_event_with_refusals_at_different_times_is_visited_once():
    event = EventFactory()
    gate = GateFactory(event=event)
    for minutes in (1, 2, 3):
        ScanFactory(
            event=event,
            gate=gate,
            result=Scan.Result.REJECTED,
            reason="participant_not_found",
            scanned_at=timezone.now() - timedelta(minutes=minutes),
        )
    ScanFactory(event=EventFactory(), result=Scan.Result.ACCEPTED)  # accepted scans come through the outbox

    assert events_with_uncounted_refusals() == [event.pk]
