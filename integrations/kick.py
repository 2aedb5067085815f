"""Wakes the outbox relay (and the webhook sender) after a commit without a broker call on the caller's path.

A check-in must not fail or wait when Redis is down, so the request thread only sets a flag;
a daemon thread per process turns flags into at most one task every KICK_INTERVAL seconds
(coalescing bursts: a relay pass of 500 rows asks for one webhook run, not 500). A lost kick
costs only latency: beat sweeps the outbox and the due webhooks anyway.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

KICK_INTERVAL_SECONDS = 0.05


ALL_KICKERS: list["TaskKicker"] = []


class TaskKicker:
    def __init__(self, task_path: str) -> None:
        self._task_path = task_path
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._busy = False
        ALL_KICKERS.append(self)

    def kick(self, **_signal_kwargs) -> None:
        if self._wanted.is_set() and self._thread is not None and self._thread.is_alive():
            # A kick is pending already (every check-in of a busy gate lands here): setting the
            # flag again would only take its lock.
            return
        if not settings.OUTBOX_KICK:
            return
        self._wanted.set()
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=f"kicker:{self._task_path}", daemon=True)
                    self._thread.start()

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: wait until no kick is pending or running in this process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._busy and not self._wanted.is_set():
                return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        task = import_string(self._task_path)
        while True:
            self._wanted.wait()
            self._busy = True
            self._wanted.clear()
            try:
                task.delay()
            except Exception:  # broker down: the periodic sweep picks the work up later
                logger.warning("could not queue %s; the periodic sweep will pick it up", task.name, exc_info=True)
            finally:
                close_old_connections()
                self._busy = False
            # Sleep, don't wait on the flag: kicks arriving meanwhile are coalesced into the next
            # task instead of each cutting the pause short.
            time.sleep(KICK_INTERVAL_SECONDS)


kicker = TaskKicker("integrations.tasks.relay_outbox")
webhook_kicker = TaskKicker("integrations.tasks.deliver_webhooks")
