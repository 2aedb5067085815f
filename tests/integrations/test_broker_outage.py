"""A stopped Redis loses nothing: a real Celery worker (with its beat) relays and delivers everything once Redis is back."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import transaction

from config.celery import app as celery_app
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.outbox import OutboxEvent, publish
from tests.factories import EventFactory
from tests.servers import test_database_url
from tests.waiting import wait_until

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 12


@pytest.fixture
def broker(disposable_redis):
    """Point this process's Celery app at the disposable Redis (as its web process would be)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = disposable_redis.url
    celery_app._after_fork()  # drop pooled connections to the old broker
    yield disposable_redis
    celery_app.conf.broker_url = previous
    celery_app._after_fork()


@pytest.fixture
def worker(broker):
    """`celery -A config worker -B`: a real worker process with an embedded beat, on the disposable Redis."""
    directory = tempfile.mkdtemp(prefix="gatehouse-worker-")
    log_path = Path(directory) / "worker.log"
    environment = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": broker.url,
        "DATABASE_POOL_MAX_SIZE": "3",
        "WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS": "true",
        "OUTBOX_SWEEP_SECONDS": "1",
        "WEBHOOK_SWEEP_SECONDS": "1",
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": "1,1,1,1,1",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "-B",
                "--schedule",
                str(Path(directory) / "beat-schedule"),
                "--pool",
                "threads",
                "-c",
                "2",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: b"ready." in log_path.read_bytes(), timeout=60, what="the worker to start", log_path=log_path)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _wait_for(condition, *, timeout: float, what: str, log_path: Path | None = None) -> None:
    try:
        wait_until(condition, timeout=timeout, interval=0.2, message=what)
    except AssertionError as exc:
        tail = log_path.read_text(errors="replace")[-4000:] if log_path else ""
        raise AssertionError(f"{exc}\n{tail}") from None


def test_events_published_while_redis_is_stopped_are_all_delivered_once_in_order_when_it_is_back(worker, broker, receiver):
    event = EventFactory()
    endpoint = WebhookEndpoint.objects.create(organization=event.organization, url=receiver.url)

    broker.stop()
    for n in range(EVENTS):
        # As the check-in service does: the cause and its outbox row in one transaction. With
        # the broker down nothing on this path may fail or hang: the kick happens off-thread.
        with transaction.atomic():
            publish(topic="attendance.recorded", event_id=event.pk, organization_id=event.organization_id, payload={"n": n})
    assert OutboxEvent.objects.filter(event_id=event.pk).count() == EVENTS, "every write committed"
    # A negative check needs an observation window: two sweep periods of the worker's beat.
    time.sleep(2)
    assert receiver.received == [], "nothing can move while the broker is down"

    broker.start()
    _wait_for(lambda: len(receiver.received) >= EVENTS, timeout=120, what="every webhook", log_path=worker)
    _wait_for(
        lambda: (
            not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists()
            and not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
        ),
        timeout=60,
        what="every delivery to be settled",
        log_path=worker,
    )

    assert [body["data"]["n"] for body in receiver.bodies()] == list(range(EVENTS)), "each event once, in order"
    assert len(set(receiver.webhook_ids())) == EVENTS
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    statuses = set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True))
    assert statuses == {WebhookDelivery.Status.SUCCEEDED}


def test_a_task_queued_during_a_request_logs_with_the_requests_id_in_the_worker(worker):
    from django_guid import clear_guid, set_guid

    from integrations.tasks import deliver_webhooks

    request_id = "0123456789abcdef0123456789abcdef"
    set_guid(request_id)
    try:
        deliver_webhooks.delay()
    finally:
        clear_guid()
    _wait_for(
        lambda: f"[{request_id}] Task integrations.deliver_webhooks" in worker.read_text(errors="replace"),
        timeout=30,
        what="the task's log line with the request id",
        log_path=worker,
    )
