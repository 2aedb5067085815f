"""Wakes the outbox relay after a commit without putting a broker call on the request path.

A check-in must not fail or wait when Redis is down, so the request thread only sets a flag;
a daemon thread per process turns flags into at most one relay task every KICK_INTERVAL
seconds (coalescing bursts). A lost kick costs only latency: beat sweeps the outbox anyway.
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

KICK_INTERVAL_SECONDS = 0.05


class RelayKicker:
    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def kick(self, **_signal_kwargs) -> None:
        if not settings.OUTBOX_KICK:
            return
        self._wanted.set()
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="outbox-relay-kicker", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        from integrations.tasks import relay_outbox

        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                relay_outbox.delay()
            except Exception:  # broker down: the periodic sweep relays later
                logger.warning("could not kick the outbox relay; the periodic sweep will pick it up", exc_info=True)
            finally:
                close_old_connections()
            self._wanted.wait(timeout=KICK_INTERVAL_SECONDS)


kicker = RelayKicker()
