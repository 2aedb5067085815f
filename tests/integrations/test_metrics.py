"""/metrics: Prometheus text with django-prometheus' metrics and the product's own, behind a token."""

import re

import pytest
from django.test import override_settings

from attendance.models import Scan
from integrations.outbox import OutboxEvent
from tests.factories import EventFactory, ImportJobFactory, OutboxEventFactory, ParticipantFactory, ScanFactory

pytestmark = pytest.mark.django_db


def _sample(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape('{' + labels + '}') if labels else ''} (\S+)$"
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in /metrics"
    return float(match.group(1))


def _metrics(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_show_django_prometheus_and_the_product_counters(client):
    text = _metrics(client)
    assert "django_http_requests_total_by_method_total" in text or "django_http_requests_before_middlewares_total" in text
    for name in (
        "gatehouse_scans_total",
        "gatehouse_import_rows_total",
        "gatehouse_participant_emails",
        "gatehouse_webhook_deliveries",
        "gatehouse_outbox_lag_seconds",
    ):
        assert name in text


def test_scan_counters_move_after_scans(client):
    before = _metrics(client)
    event = EventFactory()
    ScanFactory.create_batch(3, event=event, result=Scan.Result.ACCEPTED)
    ScanFactory(event=event, result=Scan.Result.DUPLICATE, reason="duplicate_scan")
    after = _metrics(client)
    accepted = 'result="accepted"'
    duplicate = 'result="duplicate"'
    assert _sample(after, "gatehouse_scans_total", accepted) - _sample(before, "gatehouse_scans_total", accepted) == 3
    assert _sample(after, "gatehouse_scans_total", duplicate) - _sample(before, "gatehouse_scans_total", duplicate) == 1
    assert _sample(after, "gatehouse_scans_total", 'result="rejected"') == _sample(
        before, "gatehouse_scans_total", 'result="rejected"'
    )


def test_import_row_counters_move_after_imports(client):
    before = _metrics(client)
    ImportJobFactory(created_count=90, updated_count=5, duplicate_count=3, error_count=2, status="completed")
    ImportJobFactory(created_count=10, status="running")
    after = _metrics(client)
    for outcome, moved in (("created", 100), ("updated", 5), ("duplicate", 3), ("error", 2)):
        labels = f'outcome="{outcome}"'
        assert (
            _sample(after, "gatehouse_import_rows_total", labels) - _sample(before, "gatehouse_import_rows_total", labels)
            == moved
        )


def test_emails_by_status(client):
    ParticipantFactory.create_batch(2, email_status="sent")
    ParticipantFactory(email_status="failed")
    text = _metrics(client)
    assert _sample(text, "gatehouse_participant_emails", 'status="sent"') == 2
    assert _sample(text, "gatehouse_participant_emails", 'status="failed"') == 1


def test_outbox_lag_is_the_age_of_the_oldest_unrelayed_event(client):
    assert _sample(_metrics(client), "gatehouse_outbox_lag_seconds") == 0
    row = OutboxEventFactory()
    OutboxEvent.objects.filter(pk=row.pk).update(created_at=row.created_at.replace(year=row.created_at.year - 1))
    text = _metrics(client)
    assert _sample(text, "gatehouse_outbox_lag_seconds") > 364 * 24 * 3600
    assert _sample(text, "gatehouse_outbox_pending") == 1


def test_with_a_token_only_the_bearer_of_it_gets_metrics(client):
    with override_settings(METRICS_TOKEN="s3cret-scrape-token"):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200


def test_in_production_metrics_without_a_token_are_closed(client):
    with override_settings(IS_PRODUCTION=True, METRICS_TOKEN=""):
        assert client.get("/metrics").status_code == 401
