"""Exactness under concurrency and independence from Redis, against the real Postgres."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client, override_settings

from attendance.models import Scan
from config.celery import app as celery_app
from integrations.outbox import OutboxEvent
from tests.attendance.scan_bodies import scan_body
from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory

RECORD = "/api/v1/attendance/record"
THREADS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_scans_of_one_participant_at_different_gates_accept_exactly_one():
    event = EventFactory()
    device = DeviceFactory(event=event)
    participant = ParticipantFactory(event=event)
    gates = [GateFactory(event=event, code=f"gate-{n:02d}") for n in range(THREADS)]
    start = threading.Barrier(THREADS)

    def scan_at(gate):
        start.wait()
        try:
            response = Client().post(
                RECORD,
                scan_body(participant, gate),
                content_type="application/json",
                headers={"X-Api-Key": device.plain_key},
            )
            return response.status_code, response.json().get("error", {}).get("code")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(scan_at, gates))

    assert sorted(status for status, _ in results).count(201) == 1
    assert {code for status, code in results if status != 201} == {"already_checked_in"}
    assert Scan.objects.filter(participant=participant, result="accepted").count() == 1
    assert Scan.objects.filter(participant=participant).count() == THREADS
    assert OutboxEvent.objects.filter(topic="attendance.recorded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_scan_id_store_one_scan_and_answer_alike():
    event = EventFactory()
    device = DeviceFactory(event=event)
    body = scan_body(ParticipantFactory(event=event), GateFactory(event=event), scanId=str(uuid.uuid4()))
    start = threading.Barrier(10)

    def post(_):
        start.wait()
        try:
            response = Client().post(RECORD, body, content_type="application/json", headers={"X-Api-Key": device.plain_key})
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(10)))
    assert all(result == results[0] for result in results)
    assert results[0][0] == 201
    assert Scan.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_check_in_succeeds_and_is_stored_while_redis_is_down(disposable_redis):
    event = EventFactory()
    device = DeviceFactory(event=event)
    participant = ParticipantFactory(event=event)
    gate = GateFactory(event=event)
    redis_everywhere = {
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": disposable_redis.url}},
        "CHANNEL_LAYERS": {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [disposable_redis.url]}}
        },
        "CELERY_BROKER_URL": disposable_redis.url,
    }
    previous = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = disposable_redis.url, False
    try:
        with override_settings(**redis_everywhere):
            disposable_redis.stop()
            body = scan_body(participant, gate)
            response = Client().post(RECORD, body, content_type="application/json", headers={"X-Api-Key": device.plain_key})
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
    assert response.status_code == 201, response.content
    assert Scan.objects.get(scan_id=body["scanId"]).result == "accepted"
    assert OutboxEvent.objects.filter(topic="attendance.recorded", relayed_at__isnull=True).count() == 1
