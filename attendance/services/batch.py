"""record_batch(): an offline device's backlog, in device-time order, in a few statements."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from attendance.services.rules import (
    AcceptedScan,
    BatchTooLarge,
    GateRow,
    ParticipantRow,
    ScanInput,
    ScanOutcome,
    answer,
    decide,
    outbox_payload,
    token_to_look_up,
)
from attendance.services.storage import (
    accepted_history,
    insert_scans,
    lock_participants,
    replay,
    scan_row,
    stored_verdicts,
)
from events.errors import DomainError
from gates.models import Device, Gate
from integrations.outbox import Topic, publish_many

MAX_BATCH_SIZE = 1000


def check_batch_size(count: int) -> None:
    if count > MAX_BATCH_SIZE:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BATCH_SIZE} scans; this one has {count}.",
            details={"scans": [f"at most {MAX_BATCH_SIZE}"]},
        )


def record_batch(*, device: Device, scans: list[ScanInput]) -> list[ScanOutcome]:
    """Record an offline device's scans in device-time order and return each one's verdict, in
    that order (equal times in the order sent).

    Each verdict is the one record_scan() gives the same scan sent alone in that order:
    accepted, refused (stored), replayed or an idempotency conflict
    (tests/attendance/test_rule_parity.py). Every scan needs a scanId (the batch is the
    offline replay unit). Replaying a batch changes nothing and answers the same. A few round trips per batch regardless of its size.
    Raises BatchTooLarge before any work if there are more than MAX_BATCH_SIZE scans.
    """
    check_batch_size(len(scans))
    if any(scan.scan_id is None for scan in scans):
        raise DomainError("Every scan in a batch needs a scanId.", details={"scanId": ["required in a batch"]})
    try:
        return _record_many(device=device, scans=scans)
    except IntegrityError:
        # Another request stored one of these scanIds meanwhile: go again, it is now a replay.
        return _record_many(device=device, scans=scans)


def _record_many(*, device: Device, scans: list[ScanInput]) -> list[ScanOutcome]:
    event = device.event
    ordered = sorted(scans, key=lambda s: s.scanned_at)  # stable: equal times keep the sent order
    outcomes = []
    rows, payloads = [], []
    with transaction.atomic():
        stored = stored_verdicts([s.scan_id for s in ordered])
        gates = {
            row[1]: GateRow(*row)
            for row in Gate.objects.filter(event=event).order_by().values_list("id", "code", "direction", "is_active")
        }
        public_ids = {s.participant_id for s in ordered if s.participant_id is not None}
        # Each distinct token text once: a QR code's text costs a signature check.
        sent_tokens = {s.token: token_to_look_up(s.token, event=event) for s in ordered if s.token is not None}
        tokens = {token for token, _ in sent_tokens.values() if token}
        by_public_id, by_token = {}, {}
        for pid, public_id, status, name, token in lock_participants(event=event, public_ids=public_ids, tokens=tokens):
            participant = ParticipantRow(pid, public_id, status, name)
            by_public_id[public_id] = participant
            by_token[token] = participant
        history = accepted_history([p.id for p in by_public_id.values()])

        received_at = timezone.now()
        for scan in ordered:
            if scan.scan_id in stored:
                outcomes.append(replay(scan, scan.scan_id, stored[scan.scan_id]))
                continue
            token, ticket_refused = sent_tokens[scan.token] if scan.token is not None else (None, False)
            participant = _batch_participant(scan, token, by_public_id, by_token)
            gate = gates.get(scan.gate_code)
            past = history[participant.id] if participant else []
            refusal, direction = decide(
                device=device, scan=scan, gate=gate, participant=participant, history=past, ticket_refused=ticket_refused
            )
            status, result, body = answer(
                scan=scan,
                scan_id=scan.scan_id,
                refusal=refusal,
                direction=direction,
                gate_code=scan.gate_code,
                participant=participant,
            )
            rows.append(
                scan_row(
                    device=device,
                    scan=scan,
                    scan_id=scan.scan_id,
                    participant=participant,
                    gate=gate,
                    received_at=received_at,
                    direction=direction,
                    result=result,
                    status=status,
                    body=body,
                    reason=refusal,
                )
            )
            stored[scan.scan_id] = (scan.fingerprint_value, status, body)
            if refusal is None:
                past.append(AcceptedScan(gate.id, direction, scan.scanned_at))
                payloads.append(
                    outbox_payload(device=device, scan=scan, scan_id=scan.scan_id, direction=direction, participant=participant)
                )
            outcomes.append(ScanOutcome(scan_id=scan.scan_id, status=status, parsed_body=body))
        insert_scans(rows)
        publish_many(topic=Topic.ATTENDANCE_RECORDED, event_id=event.pk, organization_id=event.organization_id, payloads=payloads)
    return outcomes


def _batch_participant(scan: ScanInput, token: str | None, by_public_id: dict, by_token: dict) -> ParticipantRow | None:
    found = None
    if scan.participant_id is not None:
        found = by_public_id.get(scan.participant_id)
        if found is None:
            return None
    if scan.token is not None:
        by_this_token = by_token.get(token)
        if by_this_token is None or (found is not None and by_this_token.id != found.id):
            return None
        found = by_this_token
    return found
