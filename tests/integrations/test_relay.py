"""The outbox relay: in order per event, nothing lost when a sink fails, safe to run twice at once."""

import threading

import pytest
from django.db import connection
from django.test import override_settings

from integrations.outbox import OutboxEvent, publish
from integrations.relay import relay_all, relay_pending
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SEEN: list[tuple[int, int]] = []
FAIL_EVENT_IDS: set[int] = set()


def recording_sink(row: OutboxEvent) -> None:
    if row.event_id in FAIL_EVENT_IDS:
        raise RuntimeError("receiver down")
    SEEN.append((row.event_id, row.payload["n"]))


@pytest.fixture(autouse=True)
def _recording_sink():
    SEEN.clear()
    FAIL_EVENT_IDS.clear()
    with override_settings(OUTBOX_SINKS=["tests.integrations.test_relay.recording_sink"], OUTBOX_KICK=False):
        yield


def _publish(event_id: int, n: int) -> None:
    publish(topic="attendance.recorded", event_id=event_id, organization_id=1, payload={"n": n})


def test_rows_reach_the_sinks_in_order_and_are_marked_relayed():
    for n in range(5):
        _publish(1, n)
    assert relay_all() == 5
    assert [(1, n) for n in range(5)] == SEEN
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    assert relay_all() == 0, "a second pass relays nothing again"


def test_a_failing_sink_holds_back_only_its_own_event_and_retries_later():
    for n in range(3):
        _publish(1, n)
        _publish(2, n)
    FAIL_EVENT_IDS.add(1)
    relay_all()
    assert SEEN == [(2, 0), (2, 1), (2, 2)]
    failed = OutboxEvent.objects.filter(event_id=1, relayed_at__isnull=True).order_by("id")
    assert failed.count() == 3
    assert "receiver down" in failed.first().last_error
    FAIL_EVENT_IDS.clear()
    relay_all()
    assert [n for event_id, n in SEEN if event_id == 1] == [0, 1, 2]


def test_two_relays_at_once_deliver_each_row_once():
    for n in range(200):
        _publish(n % 3, n)
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            relay_all(batch_size=20)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    relay_all()
    assert sorted(n for _, n in SEEN) == list(range(200))
    for event_id in range(3):
        ns = [n for e, n in SEEN if e == event_id]
        assert ns == sorted(ns), "in order per event"


def test_relay_pending_returns_zero_when_another_relay_holds_the_lock():
    _publish(1, 0)
    from django.db import transaction

    from integrations.relay import RELAY_LOCK_KEY

    holder_ready, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
            holder_ready.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    holder_ready.wait(10)
    assert relay_pending() == 0
    release.set()
    holder.join()
    assert relay_pending() == 1


def test_a_commit_kicks_the_relay_in_the_background():

    from django.db import transaction

    with override_settings(OUTBOX_KICK=True), transaction.atomic():
        _publish(7, 1)
    wait_until(lambda: (7, 1) in SEEN, timeout=10, message="the kicked relay to deliver the row")


def test_a_rolled_back_transaction_publishes_nothing():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _publish(8, 1)
        raise RuntimeError("the cause failed")
    assert not OutboxEvent.objects.filter(event_id=8).exists()
    assert relay_all() == 0


def test_relay_all_waits_for_a_relay_holding_the_lock_and_then_relays_what_it_missed():
    from django.db import transaction

    from integrations.relay import RELAY_LOCK_KEY

    _publish(1, 0)
    holder_ready = threading.Event()

    def hold_lock_briefly():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
            holder_ready.set()
            cursor.execute("SELECT pg_sleep(0.3)")
        connection.close()

    holder = threading.Thread(target=hold_lock_briefly)
    holder.start()
    holder_ready.wait(10)
    assert relay_all() == 1, "a kicked relay must not give up while another pass holds the lock"
    holder.join()
    assert SEEN == [(1, 0)]
