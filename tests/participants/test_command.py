"""manage.py import_participants: the admin's pipeline from a shell."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from participants.models import ImportJob, Participant
from tests.factories import EventFactory
from tests.participants.files import write_csv

pytestmark = pytest.mark.django_db


def test_imports_and_prints_counters_last(tmp_path):
    event = EventFactory(slug="tech-2026")
    path = write_csv(tmp_path / "p.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Kim A2", "A@example.com"], ["B", "b"]])
    out, err = io.StringIO(), io.StringIO()
    call_command("import_participants", "--event", "tech-2026", str(path), "--send-tickets", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created=1 updated=0 duplicates=1 errors=1 unchanged=0"
    assert "3/3" in err.getvalue()
    assert Participant.objects.get(event=event).email_status == "pending"
    assert ImportJob.objects.get().status == "completed"


def test_reimporting_the_same_file_prints_unchanged_not_duplicates(tmp_path):
    EventFactory(slug="tech-2026")
    path = write_csv(tmp_path / "p.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Kim B", "b@example.com"]])
    call_command("import_participants", "--event", "tech-2026", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_participants", "--event", "tech-2026", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip().splitlines()[-1] == "created=0 updated=0 duplicates=0 errors=0 unchanged=2"


def test_rejected_file_exits_non_zero_with_the_reason(tmp_path):
    EventFactory(slug="tech-2026")
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty_file"):
        call_command("import_participants", "--event", "tech-2026", str(path))
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_rejected_file_exit_status_from_a_real_shell(tmp_path):
    EventFactory(slug="tech-2026")
    path = tmp_path / "header.csv"
    path.write_text("name,email\n")
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_participants", "--event", "tech-2026", str(path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert completed.returncode != 0
    assert "no participant rows" in completed.stderr


def test_embedded_sqlite_mode_imports_and_reimports(tmp_path):
    # `make run` has no Postgres: the same command must work on its SQLite file.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media")})

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True, env=env, timeout=300)

    assert manage("migrate", "--noinput").returncode == 0
    created = manage(
        "create_event",
        "--slug",
        "local",
        "--name",
        "Local",
        "--starts",
        "2026-09-01T09:00:00+09:00",
        "--ends",
        "2026-09-01T18:00:00+09:00",
    )
    assert created.returncode == 0, created.stderr
    first = write_csv(tmp_path / "a.csv", [["name", "email"], ["Kim A", "a@example.com"], ["Kim B", "b@example.com"], ["B", "b"]])
    second = write_csv(
        tmp_path / "b.csv",
        [["name", "email"], ["Kim A", "A@example.com"], ["Kim Bee", "b@example.com"], ["Lee C", "c@example.com"]],
    )
    runs = [manage("import_participants", "--event", "local", str(path)) for path in (first, second)]
    assert [r.stdout.strip().splitlines()[-1] for r in runs] == [
        "created=2 updated=0 duplicates=0 errors=1 unchanged=0",
        "created=1 updated=1 duplicates=0 errors=0 unchanged=1",
    ], [r.stderr for r in runs]
