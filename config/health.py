"""Liveness and readiness probes for load balancers and orchestrators."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request):
    """The process answers: nothing else is checked, so a dependency outage never restarts web."""
    return JsonResponse({"status": "healthy"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    probe_key = f"readyz:{uuid.uuid4().hex}"
    cache.set(probe_key, "1", timeout=5)
    if cache.get(probe_key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(probe_key)


def _check_broker() -> None:
    # Embedded mode runs tasks in-process: there is no broker to wait for.
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return
    from config.celery import app

    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        # One try, no back-off: a probe must answer within the orchestrator's timeout.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@require_GET
@never_cache
def readyz(request):
    """Every dependency the service needs to do useful work; 503 names those that are down."""
    down = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
            down[name] = type(exc).__name__
    if down:
        return JsonResponse({"status": "unhealthy", "down": down}, status=503)
    return JsonResponse({"status": "healthy"})
