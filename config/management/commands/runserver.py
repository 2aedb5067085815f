"""manage.py runserver: Channels' daphne runserver (HTTP and websocket), plus what the embedded mode needs.

In the embedded mode (no REDIS_URL: tasks run in this process, there is no beat):
- links in emails name the address actually served, unless PUBLIC_BASE_URL is set: with
  `runserver 127.0.0.1:8765` (`make run PORT=8765`) a ticket's link says 8765, not the
  default 8000. Emails are sent by this process in that mode, so setting it here is enough.
- the refusal sweep runs in a thread of this process, as beat runs it in real mode
  (analytics.sweeper).
Real mode is untouched: workers send the emails there, so PUBLIC_BASE_URL must be set for them.
"""

import os

from daphne.management.commands.runserver import Command as DaphneRunserverCommand
from django.conf import settings


def served_base_url(*, addr: str, port: str, is_ipv6: bool) -> str:
    """The URL a browser on this machine reaches `addr:port` at (wildcard addresses become loopback)."""
    host = {"0": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(addr, addr)  # noqa: S104 - mapping, not binding
    if is_ipv6 or ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(DaphneRunserverCommand):
    def inner_run(self, *args, **options):
        # The serving process (the autoreloader's child when reloading is on).
        if settings.CELERY_TASK_ALWAYS_EAGER:
            if not os.environ.get("PUBLIC_BASE_URL"):
                settings.PUBLIC_BASE_URL = served_base_url(addr=self.addr, port=self.port, is_ipv6=self._raw_ipv6)
            self.stdout.write(f"Links in emails start with {settings.PUBLIC_BASE_URL} (PUBLIC_BASE_URL)\n")
            from analytics.sweeper import start_refusal_sweeper

            start_refusal_sweeper()
        return super().inner_run(*args, **options)
