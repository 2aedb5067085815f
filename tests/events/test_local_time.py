"""Event-local times: the instant in the event's zone, the zone named, UTC on hover."""

from datetime import UTC, datetime

from events.local_time import event_local_time, event_local_time_html, utc_time
from events.models import Event


def test_a_utc_instant_reads_in_the_events_zone_with_its_name():
    event = Event(timezone="Asia/Seoul")
    assert event_local_time(datetime(2026, 5, 1, 0, 30, tzinfo=UTC), event) == "2026-05-01 09:30 KST"


def test_summer_time_is_named_as_such():
    event = Event(timezone="Europe/Berlin")
    assert event_local_time(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), event) == "2026-07-01 10:00 CEST"
    assert event_local_time(datetime(2026, 1, 1, 8, 0, tzinfo=UTC), event) == "2026-01-01 09:00 CET"


def test_the_admin_cell_carries_the_utc_instant_as_its_tooltip():
    event = Event(timezone="Asia/Seoul")
    html = event_local_time_html(datetime(2026, 5, 1, 0, 30, tzinfo=UTC), event)
    assert 'title="2026-05-01 00:30 UTC"' in html
    assert ">2026-05-01 09:30 KST</time>" in html
    assert utc_time(None) == "" and event_local_time(None, event) == ""
