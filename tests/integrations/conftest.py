"""Fixtures for integrations: a real HTTP receiver and webhook settings fit for a test's pace."""

import json
import threading

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.with_services import free_port

FAST_RETRIES = [0.0, 0.0, 0.0]


class Receiver:
    """A real HTTP server (pytest-httpserver) that records what it got and answers as told."""

    path = "/hooks/gatehouse"

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=free_port())
        self.answers: list[int] = []  # consumed one per request; 200 when empty
        self.received: list[tuple[dict, bytes]] = []
        self._lock = threading.Lock()
        self.server.expect_request(self.path, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.received.append((dict(request.headers), request.get_data()))
            status = self.answers.pop(0) if self.answers else 200
        return Response(f"answer {status}", status=status)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def bodies(self) -> list[dict]:
        with self._lock:
            return [json.loads(body) for _, body in self.received]

    def webhook_ids(self) -> list[str]:
        with self._lock:
            return [headers["Webhook-Id"] for headers, _ in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook_settings():
    """Receivers on 127.0.0.1 allowed, immediate retries, the relay driven by the test."""
    with override_settings(
        WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=True,
        WEBHOOK_RETRY_SCHEDULE_SECONDS=FAST_RETRIES,
        WEBHOOK_READ_TIMEOUT_SECONDS=5.0,
        OUTBOX_SINKS=["integrations.webhooks.sink"],
        OUTBOX_KICK=False,
    ):
        yield
