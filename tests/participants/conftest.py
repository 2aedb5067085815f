"""Participant test fixtures: a temporary media root, and a real Celery worker for imports."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.servers import test_database_url


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class ImportWorker:
    """A real `celery -A config worker` process consuming a queue of this test's own."""

    def __init__(self, *, media_root: Path, log_dir: Path, chunk_rows: int):
        self.queue = f"test-imports-{uuid.uuid4().hex[:8]}"
        self.media_root = media_root
        self.log_dir = log_dir
        self.chunk_rows = chunk_rows
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def environment(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "DATABASE_POOL_MAX_SIZE": "3",
            "MEDIA_ROOT": str(self.media_root),
            "IMPORT_TASK_QUEUE": self.queue,
            "IMPORT_CHUNK_ROWS": str(self.chunk_rows),
            "IMPORT_STALE_AFTER_SECONDS": "1",
        }

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"worker-{self.starts}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads", "-c", "2", "-Q", self.queue]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            env=self.environment(),
            cwd=django_settings.BASE_DIR,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no chance to acknowledge or requeue anything."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def import_worker(settings, tmp_path):
    worker = ImportWorker(media_root=Path(settings.MEDIA_ROOT), log_dir=tmp_path, chunk_rows=500)
    settings.IMPORT_TASK_QUEUE = worker.queue
    settings.IMPORT_CHUNK_ROWS = worker.chunk_rows
    yield worker
    worker.stop()
