"""The gate API served as deployed: gunicorn with config/gunicorn.py, in its own processes."""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from attendance.models import Scan
from gates.services import create_device
from tests.attendance.scan_bodies import scan_body
from tests.factories import EventFactory, GateFactory, ParticipantFactory
from tests.servers import test_database_url
from tests.waiting import wait_until
from tests.with_services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
SERVER_NAME = "gatehouse-api-under-test"


@pytest.fixture
def api_server():
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": test_database_url() + f"?application_name={SERVER_NAME}",
        "SECRET_KEY": settings.SECRET_KEY,  # device keys are hashed with it
        "ALLOWED_HOSTS": "127.0.0.1",
        "OUTBOX_KICK": "false",
    }
    environment.pop("DATABASE_POOL", None)
    environment.pop("CONN_MAX_AGE", None)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py", "-w", "1", "-b", f"127.0.0.1:{port}"]
            + ["config.wsgi:application"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(20)
            log.seek(0)
            print(log.read().decode(errors="replace"))  # shown by pytest when the test failed


def post(url: str, body: dict, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def server_backends() -> set[int]:
    """The server's connections to the test database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVER_NAME])
        return {pid for (pid,) in cursor.fetchall()}


def test_deployed_server_records_check_ins_on_one_connection_kept_across_requests(api_server):
    event = EventFactory()
    gate = GateFactory(event=event)
    device, key = create_device(event=event, name="tablet")
    people = [ParticipantFactory(event=event) for _ in range(3)]
    record = f"{api_server}/api/v1/attendance/record"

    assert post(record, scan_body(people[0], gate), key)[0] == 201
    # The worker's connection, once the first request is done with it.
    wait_until(lambda: len(server_backends()) == 1, timeout=10, message="one open server connection")
    connected = server_backends()
    answers = [post(record, scan_body(person, gate), key) for person in people[1:]]
    duplicate = post(record, scan_body(people[1], gate), key)

    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1]["participant"]["id"] == str(people[1].public_id)
    assert duplicate[0] == 409 and duplicate[1]["error"]["code"] == "duplicate_scan"
    assert Scan.objects.filter(device=device, result="accepted").count() == 3
    # The worker's one connection outlived each request and served the next ones.
    assert server_backends() == connected
