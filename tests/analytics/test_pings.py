"""One change, one dashboard ping per affected event: a relay batch, a refusal sweep pass, a rebuild.

Pings are counted by a real receiver: a channel of the real channel layer joined to the event's
group, exactly as a dashboard connection joins it.
"""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.test import TestCase, override_settings

from analytics import broadcast, selectors, services
from analytics.models import Alert
from tests.analytics.scans import record, relay
from tests.factories import EventFactory, GateFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

QUIET_SECONDS = 0.3


@pytest.fixture(autouse=True)
def _relay_by_hand():
    with override_settings(OUTBOX_KICK=False, ANALYTICS_SWEEP_GRACE_SECONDS=0):
        yield


class Dashboard:
    """A channel in the event's group: what a connected dashboard would be told."""

    def __init__(self, event) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(broadcast.group_name(event.pk), self.channel)

    def pings(self) -> int:
        """How many pings arrived (waiting until none came for QUIET_SECONDS)."""

        async def drain() -> int:
            received = 0
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), QUIET_SECONDS)
                except TimeoutError:
                    return received
                assert message["type"] == "stats.changed"
                received += 1

        return async_to_sync(drain)()


def scans(event, n: int, *, capacity: int = 1000):
    gate = GateFactory(event=event, capacity_per_minute=capacity)
    for person in ParticipantFactory.create_batch(n, event=event):
        record(event=event, gate=gate, participant=person)
    return gate


def relay_as_the_kicker_would() -> int:
    """Relay until the outbox is empty: rows written by the relay's own effects (alerts) included."""
    total = 0
    while relayed := relay():
        total += relayed
    return total


def test_a_relay_batch_of_many_scans_pings_the_dashboard_once():
    event = EventFactory()
    dashboard = Dashboard(event)
    scans(event, 20)
    assert relay_as_the_kicker_would() == 20
    assert selectors.stats_snapshot(event=event)["overall"]["checkedIn"] == 20
    assert dashboard.pings() == 1


@pytest.mark.django_db(transaction=True)  # real commits: the refresh's several transactions each commit
def test_a_relay_batch_that_raises_an_alert_pings_once_numbers_and_alert_together():
    event = EventFactory()
    dashboard = Dashboard(event)
    scans(event, 6, capacity=1)  # 6 scans / (1 per minute × 5) = 1.2: overloaded
    assert relay_as_the_kicker_would() == 7, "six scans and the alert.raised row"
    assert Alert.objects.filter(event=event).count() == 1
    assert dashboard.pings() == 1


def test_a_relay_batch_of_two_events_pings_each_once():
    first, second = EventFactory(), EventFactory()
    dashboards = Dashboard(first), Dashboard(second)
    scans(first, 5)
    scans(second, 3)
    relay_as_the_kicker_would()
    assert [dashboard.pings() for dashboard in dashboards] == [1, 1]


_failing_event: list[int] = []


def failing_sink(row) -> None:
    """A sink that fails the rows of one event (the relay then replays its batch row by row)."""
    if row.event_id in _failing_event:
        raise RuntimeError("this receiver is down")


def test_a_batch_replayed_row_by_row_after_another_events_failure_still_counts_and_pings_once():
    healthy, broken = EventFactory(), EventFactory()
    dashboard = Dashboard(healthy)
    scans(healthy, 4)
    scans(broken, 1)
    _failing_event[:] = [broken.pk]
    try:
        with override_settings(OUTBOX_SINKS=["analytics.sinks.apply_outbox_event", f"{__name__}.failing_sink"]):
            assert relay() == 4, "the broken event's row waits; the healthy event's go through"
    finally:
        _failing_event.clear()
    assert selectors.stats_snapshot(event=healthy)["overall"]["checkedIn"] == 4
    assert dashboard.pings() == 1


def test_a_refusal_sweep_pass_pings_each_event_with_new_refusals_once():
    first, second, quiet = EventFactory(status="live"), EventFactory(status="live"), EventFactory(status="live")
    dashboards = Dashboard(first), Dashboard(second), Dashboard(quiet)
    for event, refusals in ((first, 3), (second, 1)):
        for _ in range(refusals):
            record(event=event, result="rejected", reason="participant_inactive", publish_it=False)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.sweep_refusals() == 4
    assert [dashboard.pings() for dashboard in dashboards] == [1, 1, 0]


def test_the_periodic_backstop_pings_each_event_it_counted_for_once():
    from analytics.tasks import count_uncounted_scans

    event = EventFactory(status="live")
    dashboard = Dashboard(event)
    scans(event, 3)
    record(event=event, result="rejected", reason="participant_inactive", publish_it=False)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert count_uncounted_scans.delay().get() == 4
    assert dashboard.pings() == 1


def test_a_rebuild_pings_the_dashboard_once():
    event = EventFactory()
    scans(event, 5)
    relay_as_the_kicker_would()
    dashboard = Dashboard(event)
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("rebuild_stats", "--event", event.slug)
    assert dashboard.pings() == 1
