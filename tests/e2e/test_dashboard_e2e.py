"""Staff watch the live dashboard in a real browser while scans arrive: numbers change without a reload.

The page's websocket needs an ASGI server, so this test serves the app with daphne in a
subprocess (real mode: the test process and the server share Postgres and channels-redis,
as two web processes would).
"""

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from events.models import Membership
from gates.models import Gate
from tests.analytics.scans import record
from tests.factories import EventFactory, GateFactory, MembershipFactory, ParticipantFactory
from tests.servers import ROOT, AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_watch_numbers_and_the_gate_table_change_live(asgi_server, page, admin_login):
    event = EventFactory(name="Seoul Summit")
    north = GateFactory(event=event, code="north", name="North <b>hall</b>", capacity_per_minute=1)
    south = GateFactory(event=event, code="south", name="South", direction=Gate.Direction.BOTH)
    people = ParticipantFactory.create_batch(10, event=event)
    MembershipFactory(organization=event.organization, user__username="staffer", role=Membership.Role.STAFF)

    admin_login(page, asgi_server, "staffer")
    page.goto(f"{asgi_server.url}/dashboard/events/{event.slug}/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")
    expect(page.locator("#kpi-checked-in")).to_have_text("0")
    expect(page.locator("#kpi-registered")).to_have_text("10")
    expect(page.locator("#gate-table tbody tr")).to_have_count(2)
    page.evaluate("window.__sameDocument = true")

    for person in people[:3]:
        record(event=event, gate=south, participant=person)
    record(event=event, gate=south, participant=people[0], direction="exit")

    expect(page.locator("#kpi-checked-in")).to_have_text("3")
    expect(page.locator("#kpi-inside")).to_have_text("2")
    expect(page.locator("#kpi-rate")).to_have_text("30.0%")
    expect(page.locator("tr[data-gate=south] td.scans")).to_have_text("4")

    # North: 5 scans at capacity 1/min is 100% load: overloaded, with an alert.
    for person in people[3:8]:
        record(event=event, gate=north, participant=person)
    expect(page.locator("tr[data-gate=north] td.scans")).to_have_text("5")
    expect(page.locator("tr[data-gate=north] td.status")).to_have_text("overloaded")
    expect(page.locator("#alerts li")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True, "updated without a reload"
    # Gate names are shown as text, never as markup.
    assert page.locator("tr[data-gate=north] strong").inner_text() == "North <b>hall</b>"
    assert page.locator("tr[data-gate=north] b").count() == 0

    page.locator("#alerts li button").click()
    expect(page.locator("#alerts li")).to_have_count(0)
    expect(page.locator("#no-alerts")).to_be_visible()


def test_the_dashboard_reconnects_by_itself_after_the_server_restarts(asgi_server, page, admin_login):
    event = EventFactory()
    gate = GateFactory(event=event)
    MembershipFactory(organization=event.organization, user__username="watcher")
    admin_login(page, asgi_server, "watcher")
    page.goto(f"{asgi_server.url}/dashboard/events/{event.slug}/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")

    asgi_server.stop()
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "reconnecting")
    record(event=event, gate=gate, participant=ParticipantFactory(event=event))
    asgi_server.start()

    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live", timeout=20000)
    # The snapshot on reconnect brings what happened while the server was away.
    expect(page.locator("#kpi-checked-in")).to_have_text("1")


def test_the_dashboard_comes_back_by_itself_after_redis_restarts(disposable_redis, page, admin_login, transactional_db):
    from django.test import override_settings

    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": disposable_redis.url, "socket_timeout": 15}], "group_expiry": 300},
        }
    }
    server = AsgiServer()
    server.env["REDIS_URL"] = disposable_redis.url
    server.start()
    try:
        with override_settings(CHANNEL_LAYERS=layers):
            event = EventFactory()
            gate = GateFactory(event=event)
            MembershipFactory(organization=event.organization, user__username="nightshift")
            admin_login(page, server, "nightshift")
            page.goto(f"{server.url}/dashboard/events/{event.slug}/")
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")

            disposable_redis.stop()
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "reconnecting", timeout=20000)
            disposable_redis.start()
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "live", timeout=30000)

            record(event=event, gate=gate, participant=ParticipantFactory(event=event))
            expect(page.locator("#kpi-checked-in")).to_have_text("1", timeout=15000)
    finally:
        server.stop()


@pytest.mark.celery_worker
def test_real_mode_web_worker_and_writer_in_separate_processes(disposable_redis, page, admin_login, transactional_db, tmp_path):
    """Production topology: daphne serves the page, a real Celery worker (with beat) relays and
    applies, this process writes scans; they meet only in Postgres and Redis."""
    from config.celery import app as celery_app

    previous_broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = disposable_redis.url
    celery_app._after_fork()  # drop pooled connections to the old broker
    server = AsgiServer()
    server.env["REDIS_URL"] = disposable_redis.url
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            *("-A", "config", "worker", "-B", "--schedule", str(tmp_path / "beat-schedule")),
            *("--pool", "threads", "-c", "2", "-l", "INFO"),
        ],
        cwd=ROOT,
        env={**server.env, "OUTBOX_SWEEP_SECONDS": "1"},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    server.start()
    try:
        event = EventFactory()
        gate = GateFactory(event=event, code="west")
        people = ParticipantFactory.create_batch(5, event=event)
        MembershipFactory(organization=event.organization, user__username="ops")
        admin_login(page, server, "ops")
        page.goto(f"{server.url}/dashboard/events/{event.slug}/")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")

        for person in people:
            record(event=event, gate=gate, participant=person)

        expect(page.locator("#kpi-checked-in")).to_have_text("5", timeout=30000)
        expect(page.locator("tr[data-gate=west] td.scans")).to_have_text("5")
    finally:
        server.stop()
        worker.terminate()
        worker.wait(20)
        worker_log.close()
        celery_app.conf.broker_url = previous_broker
        celery_app._after_fork()
