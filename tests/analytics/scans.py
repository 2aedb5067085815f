"""Test helper: store a scan and publish it the way attendance.services.record_scan does."""

import uuid

from django.db import transaction
from django.test import TestCase

from attendance.models import Scan
from integrations.outbox import publish
from tests.factories import ScanFactory


def record(*, publish_it: bool = True, **fields) -> Scan:
    """A stored scan plus, in the same transaction, its `attendance.recorded` outbox row."""
    with transaction.atomic():
        scan = ScanFactory(scan_id=uuid.uuid4(), **fields)
        if publish_it:
            publish(
                topic="attendance.recorded",
                event_id=scan.event_id,
                organization_id=scan.event.organization_id,
                payload={
                    "scanId": str(scan.scan_id),
                    "gateId": scan.gate.code if scan.gate else None,
                    "direction": scan.direction,
                    "method": scan.method,
                    "scannedAt": scan.scanned_at,
                    "result": scan.result,
                },
            )
    return scan


def relay() -> int:
    """Relay pending outbox rows and run what their commit triggers (tests inside a transaction never commit)."""
    from integrations.relay import relay_all

    with TestCase.captureOnCommitCallbacks(execute=True):
        return relay_all()
