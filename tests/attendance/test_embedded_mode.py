"""The check-in service also runs in the embedded mode (SQLite, no servers): `make run` relies on it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK_IN_TWICE = """
from django.utils import timezone
from attendance.services import ScanInput, record_scan
from gates.models import Device
from participants.models import Participant
device = Device.objects.select_related("event").get(name="Demo tablet")
participant = Participant.objects.filter(event=device.event, scans__isnull=True).first()
first = ScanInput(participant_id=participant.public_id, gate_code="main-entrance", scanned_at=timezone.now(), method="qr_scan")
print(record_scan(device=device, scan=first).status)
again = ScanInput(token=participant.token, gate_code="east-entrance", scanned_at=timezone.now(), method="manual")
refused = record_scan(device=device, scan=again)
print(refused.status, refused.code)
"""


@pytest.fixture
def manage(tmp_path):
    """Run manage.py as `make run` does: a SQLite file, no Redis, tasks in-process."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"

    def run(*args) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("migrate", "-v0")
    return run


def test_seed_demo_and_check_ins_work_on_sqlite(manage):
    seeded = manage("seed_demo", "--participants", "60")
    assert "scans" in seeded and " 0 scans" not in seeded
    assert manage("shell", "-v", "0", "-c", CHECK_IN_TWICE).split() == ["201", "409", "already_checked_in"]


STATS_FOLLOW_THE_SCANS = """
from analytics.selectors import stats_snapshot
from attendance.models import Scan
from events.models import Event
from integrations.relay import relay_all
event = Event.objects.get(slug="demo-conference")
relay_all()
counted = stats_snapshot(event=event)["overall"]["checkedIn"]
truth = Scan.objects.filter(event=event, result="accepted", direction="entry").values("participant").distinct().count()
print(counted, truth)
"""


def test_live_statistics_follow_check_ins_on_sqlite(manage):
    manage("seed_demo", "--participants", "60")
    manage("shell", "-v", "0", "-c", CHECK_IN_TWICE)
    counted, truth = manage("shell", "-v", "0", "-c", STATS_FOLLOW_THE_SCANS).split()[-2:]
    assert int(truth) > 0
    assert counted == truth
