"""Shared fixtures. The suite runs against real PostgreSQL and Redis (see tests/with_services.py)."""

import os
import shutil
import subprocess
import tempfile

import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings

from config.celery import app as celery_app
from integrations.kick import ALL_KICKERS
from tests.with_services import free_port, wait_for_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql" or not settings.REDIS_URL:
        pytest.exit("The suite runs against PostgreSQL and Redis: use `make test` (it finds or starts them).", returncode=3)


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Unit tests run Celery tasks eagerly; tests marked celery_worker use a real worker."""
    eager = request.node.get_closest_marker("celery_worker") is None
    # Celery keeps "joining a result would block" in a process-global flag that eager tasks
    # set and reset; eager tasks run concurrently by the relay kicker's thread can leave it set,
    # which would make a later test's EagerResult.get() refuse to run.
    _set_task_join_will_block(False)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    # Work a commit kicked off in this process (relay, webhook sender) finishes before the next
    # test, so it never races the next test's data or a transactional test's table flush.
    for task_kicker in ALL_KICKERS:
        task_kicker.wait_until_idle()
    celery_app.conf.task_always_eager = previous


class DisposableRedis:
    """A real redis-server of the test's own, which the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="gatehouse-test-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def disposable_redis():
    server = DisposableRedis()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download).

    Per module, not per session: Playwright's sync API keeps an event loop running on the main
    thread while it is open, and async_to_sync (every dashboard broadcast) refuses to run there,
    so a session-wide browser silently broke broadcasts in every test that ran after the first
    browser test."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def admin_login():
    """Log a user into the admin through the login form, as a person would."""

    def login(page, live_server, username: str, password: str = "correct horse battery staple"):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

    return login


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where browser tests save what they saw: GATEHOUSE_SCREENSHOTS if set (the README's images
    come from `GATEHOUSE_SCREENSHOTS=docs/screenshots`), else a temporary directory."""
    from pathlib import Path

    chosen = os.environ.get("GATEHOUSE_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
