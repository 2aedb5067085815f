"""`make run`'s server for tests: `manage.py runserver` in the embedded mode (SQLite file, no Redis, no worker, no beat)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.with_services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class EmbeddedServer:
    def __init__(self, directory: Path, **environment: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "runserver.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "CELERY_TASK_ALWAYS_EAGER")
        }
        self.env.update(DATABASE_URL=f"sqlite:///{directory / 'embedded.sqlite3'}", DEBUG="true", **environment)
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout=90)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
