"""Server processes of ours for tests (daphne, gunicorn, a Celery worker), pointed at the test database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from tests.with_services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    """The test database as a DATABASE_URL (pytest-django has pointed settings at test_…)."""
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


test_database_url.__test__ = False  # a helper, not a test, despite its name


class AsgiServer:
    """daphne serving config.asgi against the test database; stoppable and restartable on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DATABASE_POOL_MAX_SIZE": "3",
            # DEBUG lets WhiteNoise serve static/ straight from the finders (no collectstatic).
            "DEBUG": "true",
        }

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
