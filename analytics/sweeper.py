"""The refusal sweep in-process, for the embedded mode (no beat): a daemon thread of the web server.

Real mode runs `analytics.count_refusals` from beat every ANALYTICS_REFUSAL_SWEEP_SECONDS. The
embedded mode (`make run`: no Redis, tasks in-process) has no beat, so without this thread a
refused scan reached the dashboard only with the next accepted one. `manage.py runserver`
starts it (config/management/commands/runserver.py); it only reads and writes the database,
and pings the dashboard through the in-process channel layer.
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from analytics import services

logger = logging.getLogger(__name__)


class RefusalSweeper(threading.Thread):
    """Runs `services.sweep_refusals()` every ANALYTICS_REFUSAL_SWEEP_SECONDS until stopped."""

    def __init__(self) -> None:
        super().__init__(name="analytics-refusal-sweeper", daemon=True)
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.is_set():
                try:
                    services.sweep_refusals()
                except Exception:  # the next pass retries; the counters can always be rebuilt from Scan
                    logger.exception("the in-process refusal sweep failed; retrying")
                finally:
                    close_old_connections()
                self._stopped.wait(settings.ANALYTICS_REFUSAL_SWEEP_SECONDS)
        finally:
            connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self.join(timeout)


_lock = threading.Lock()
_sweeper: RefusalSweeper | None = None


def start_refusal_sweeper() -> RefusalSweeper:
    """Start this process's sweeper unless one runs already; return it."""
    global _sweeper
    with _lock:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = RefusalSweeper()
            _sweeper.start()
        return _sweeper
