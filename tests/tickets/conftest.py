"""Fixtures for ticket and email tests: a real SMTP server (aiosmtpd) and real Celery workers."""

import asyncio
import collections
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from config.celery import app as celery_app
from tests.servers import test_database_url
from tests.with_services import free_port

ROOT = Path(__file__).resolve().parents[2]


class RecordingHandler:
    """An aiosmtpd handler that keeps accepted messages and can answer scripted replies."""

    def __init__(self) -> None:
        self.messages: list = []
        self.envelopes: list = []
        self.sessions: list = []  # the client's (host, port) per accepted message
        self.rcpt_replies: collections.deque[str] = collections.deque()
        self.data_replies: collections.deque[str] = collections.deque()
        self.data_arrived = threading.Event()
        # While set, DATA is held open, then refused: the message was never accepted.
        self.hold_data = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if self.rcpt_replies:
            return self.rcpt_replies.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.data_arrived.set()
        if self.hold_data.is_set():
            while self.hold_data.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Held and dropped by the test"
        if self.data_replies:
            return self.data_replies.popleft()
        self.envelopes.append(envelope)
        self.sessions.append(session.peer)
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def restart(self) -> None:
        """Stop (dropping every client session, as an idle timeout would) and listen again."""
        self.controller.stop()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list:
        return self.handler.messages

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on localhost; Django's email settings point at it."""
    server = SmtpServer()
    server.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    yield server
    server.handler.hold_data.clear()
    server.controller.stop()


class CeleryProcesses:
    """Real `celery worker` / `celery beat` subprocesses on a queue of the test's own."""

    def __init__(self, *, smtp_url: str) -> None:
        self.queue = f"test-tickets-{uuid.uuid4().hex[:10]}"
        self.directory = tempfile.mkdtemp(prefix="gatehouse-celery-")
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            # The worker must see the test database, not the development one.
            "DATABASE_URL": test_database_url(),
            "DATABASE_POOL_MAX_SIZE": "3",
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_URL": smtp_url,
            "EMAIL_TIMEOUT": "10",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "TICKET_EMAIL_SEND_LEASE_SECONDS": "2",
            "TICKET_EMAIL_SWEEP_SECONDS": "1",
            "TICKET_EMAIL_RATE_LIMIT": "",
            "PYTHONUNBUFFERED": "1",
        }

    def start_worker(self, *, concurrency: int = 2, **env: str) -> subprocess.Popen:
        return self._start(
            "worker",
            "--pool",
            "threads",
            "-c",
            str(concurrency),
            "-Q",
            self.queue,
            "--without-gossip",
            "--without-mingle",
            env=env,
        )

    def start_beat(self) -> subprocess.Popen:
        return self._start("beat", "-s", os.path.join(self.directory, "schedule"))

    def _start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        log = open(os.path.join(self.directory, f"{len(self.processes)}-{args[0]}.log"), "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/celery"), "-A", "config", *args, "-l", "INFO"],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(Path(self.directory).glob("*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
            if process.poll() is None:
                process.kill()
                process.wait(5)


@pytest.fixture
def celery_processes(smtp_server):
    processes = CeleryProcesses(smtp_url=smtp_server.url)
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = processes.queue
    try:
        yield processes
    finally:
        celery_app.conf.task_default_queue = previous_queue
        processes.stop_all()
        print(processes.logs())  # pytest shows it only when the test failed
        shutil.rmtree(processes.directory, ignore_errors=True)
