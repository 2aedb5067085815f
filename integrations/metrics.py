"""/metrics: django-prometheus' process metrics plus the product's own numbers, read from the database.

The product numbers (scans by result, import rows, emails by status, webhook deliveries by
status, outbox lag) are computed at scrape time from the tables that are the truth, so they
are exact however many web and worker processes run and survive restarts — no in-process
counter can do both. Each scrape costs a few aggregate queries on indexed tables.

Access: with settings.METRICS_TOKEN set, only `Authorization: Bearer <token>` is answered;
without one, /metrics is open in development and refused in production.
"""

import hmac
import logging
import os

from django.conf import settings
from django.db.models import Count, Min, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from attendance.models import Scan
from integrations.models import WebhookDelivery
from integrations.outbox import OutboxEvent
from participants.models import ImportJob, Participant

logger = logging.getLogger(__name__)

IMPORT_ROW_FIELDS = {
    "created": "created_count",
    "updated": "updated_count",
    "unchanged": "unchanged_count",
    "duplicate": "duplicate_count",
    "error": "error_count",
}


class ProductCollector:
    """A prometheus_client collector that reads the product's numbers from the database."""

    def _families(self):
        return {
            "scans": CounterMetricFamily("gatehouse_scans", "Scans recorded, by result.", labels=["result"]),
            "import_rows": CounterMetricFamily(
                "gatehouse_import_rows", "Participant import rows processed, by outcome.", labels=["outcome"]
            ),
            "emails": GaugeMetricFamily(
                "gatehouse_participant_emails", "Participants by ticket email status.", labels=["status"]
            ),
            "webhooks": GaugeMetricFamily("gatehouse_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]),
            "outbox_pending": GaugeMetricFamily("gatehouse_outbox_pending", "Domain events not yet relayed."),
            "outbox_lag": GaugeMetricFamily(
                "gatehouse_outbox_lag_seconds", "Age of the oldest domain event not yet relayed (0 when none)."
            ),
            "up": GaugeMetricFamily("gatehouse_metrics_database_up", "1 if the product metrics could be read."),
        }.values()

    def collect(self):
        families = {family.name: family for family in self._families()}
        try:
            self._fill(families)
            families["gatehouse_metrics_database_up"].add_metric([], 1)
        except Exception:  # a scrape during a database outage still answers, and says so
            logger.warning("product metrics could not be read", exc_info=True)
            families = {"gatehouse_metrics_database_up": families["gatehouse_metrics_database_up"]}
            families["gatehouse_metrics_database_up"].add_metric([], 0)
        yield from families.values()

    def _fill(self, families) -> None:
        scans = dict(Scan.objects.order_by().values_list("result").annotate(n=Count("id")))
        for result in Scan.Result.values:
            families["gatehouse_scans"].add_metric([result], scans.get(result, 0))

        rows = ImportJob.objects.aggregate(**{outcome: Sum(field) for outcome, field in IMPORT_ROW_FIELDS.items()})
        for outcome in IMPORT_ROW_FIELDS:
            families["gatehouse_import_rows"].add_metric([outcome], rows[outcome] or 0)

        emails = dict(Participant.objects.order_by().values_list("email_status").annotate(n=Count("id")))
        for status in Participant.EmailStatus.values:
            families["gatehouse_participant_emails"].add_metric([status], emails.get(status, 0))

        deliveries = dict(WebhookDelivery.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in WebhookDelivery.Status.values:
            families["gatehouse_webhook_deliveries"].add_metric([status], deliveries.get(status, 0))

        pending = OutboxEvent.objects.filter(relayed_at__isnull=True).aggregate(n=Count("id"), oldest=Min("created_at"))
        families["gatehouse_outbox_pending"].add_metric([], pending["n"])
        lag = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
        families["gatehouse_outbox_lag_seconds"].add_metric([], max(lag, 0.0))


class _Exposition:
    """What one scrape shows: the process (or multi-process) registry, then the product numbers."""

    def __init__(self) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            self._registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self._registry)
        else:
            self._registry = REGISTRY
        self._product = ProductCollector()

    def collect(self):
        yield from self._registry.collect()
        yield from self._product.collect()


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return not settings.IS_PRODUCTION
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@require_GET
@never_cache
def metrics_view(request):
    if not _authorized(request):
        response = HttpResponse("metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_Exposition()), content_type=CONTENT_TYPE_LATEST)
