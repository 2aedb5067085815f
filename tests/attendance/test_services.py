"""record_scan() and record_batch(): every verdict comes back as data (a ScanOutcome), never raised."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import Scan
from attendance.services import IDEMPOTENCY_CONFLICT, ScanInput, record_batch, record_scan

pytestmark = pytest.mark.django_db


def scan_of(participant, gate, *, at=None, **extra) -> ScanInput:
    return ScanInput(
        participant_id=participant.public_id,
        gate_code=gate.code,
        scanned_at=at or timezone.now(),
        method="qr_scan",
        scan_id=uuid.uuid4(),
        **extra,
    )


@pytest.mark.parametrize("portable", [False, True])
def test_a_refused_scan_is_returned_with_the_answer_it_was_stored_with(device, participant, gate, side_gate, portable):
    assert record_scan(device=device, scan=scan_of(participant, gate), portable=portable).is_accepted
    refused = record_scan(device=device, scan=scan_of(participant, side_gate), portable=portable)
    assert (refused.status, refused.code, refused.is_accepted, refused.is_duplicate) == (409, "already_checked_in", False, True)
    stored = Scan.objects.get(scan_id=refused.scan_id)
    assert (stored.result, stored.response_status, stored.response_body) == ("duplicate", 409, refused.body)


@pytest.mark.parametrize("portable", [False, True])
def test_a_scan_id_reused_for_another_scan_is_a_conflict_verdict_that_stores_nothing(device, participant, gate, portable):
    first = record_scan(device=device, scan=(scan := scan_of(participant, gate)), portable=portable)
    conflict = record_scan(device=device, scan=dataclasses.replace(scan, method="manual"), portable=portable)
    assert (conflict.status, conflict.code, conflict.is_duplicate, conflict.replayed) == (409, IDEMPOTENCY_CONFLICT, False, False)
    assert conflict.body["error"]["details"] == {"scanId": str(scan.scan_id), "field": "scanId"}
    assert list(Scan.objects.values_list("scan_id", "method")) == [(first.scan_id, "qr_scan")]


def test_a_batch_returns_each_verdict_in_device_time_order(device, participant, gate, exit_gate):
    now = timezone.now()
    entry, exit_, again = (
        scan_of(participant, gate, at=now - timedelta(minutes=30)),
        scan_of(participant, exit_gate, at=now - timedelta(minutes=20)),
        scan_of(participant, gate, at=now - timedelta(minutes=29)),  # within the duplicate window of the entry
    )
    outcomes = record_batch(device=device, scans=[exit_, again, entry])
    assert [o.scan_id for o in outcomes] == [entry.scan_id, again.scan_id, exit_.scan_id]
    assert [(o.status, o.code) for o in outcomes] == [(201, None), (409, "duplicate_scan"), (201, None)]
    assert [o.replayed for o in record_batch(device=device, scans=[entry, again, exit_])] == [True, True, True]
