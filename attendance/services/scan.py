"""record_scan(): one scan, one transaction — on Postgres one statement, hence one round trip."""

from __future__ import annotations

import json
import uuid
from contextlib import nullcontext
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attendance.services.rules import (
    GOOD_STANDING,
    REFUSALS_JSON,
    ParticipantRow,
    ScanInput,
    ScanOutcome,
    accepted_body_base,
    answer,
    decide,
    outbox_payload,
    outbox_payload_base,
    token_to_look_up,
)
from attendance.services.storage import (
    accepted_history,
    find_gate,
    insert_scans,
    replay,
    scan_row,
    stored_verdict,
)
from gates.models import Device
from integrations.outbox import OutboxEvent, Topic, outbox_committed, publish
from participants.models import Participant


def record_scan(*, device: Device, scan: ScanInput, portable: bool = False) -> ScanOutcome:
    """Record one scan from `device` (its event is implied) and return its verdict.

    Every verdict is returned, never raised: accepted (201) or refused by a rule (stored with
    the status and body it is answered with), a replay of a stored scanId (exactly what the
    first call returned; nothing new stored), or an idempotency conflict (the scanId was stored
    for a different scan; nothing stored). Commits at once, or with the caller's transaction.

    On Postgres one statement, gatehouse_record_scan(). `portable=True` takes the path of any
    other database (the ORM and decide(): what the embedded SQLite mode always runs) on
    Postgres too; both store and answer the same (tests/attendance/test_rule_parity.py).
    """
    scan_id = scan.scan_id or uuid.uuid4()
    try:
        if connection.vendor == "postgresql" and not portable:
            return _record_in_one_statement(device=device, scan=scan, scan_id=scan_id)
        return _record_portably(device=device, scan=scan, scan_id=scan_id)
    except IntegrityError:
        # A concurrent request stored the same scanId first: answer as a replay of it.
        stored = stored_verdict(scan.scan_id) if scan.scan_id is not None else None
        if stored is None:
            raise
        return replay(scan, scan.scan_id, stored)


def _record_portably(*, device: Device, scan: ScanInput, scan_id: uuid.UUID) -> ScanOutcome:
    """Any database through the ORM and decide(): the embedded (SQLite) mode.

    On SQLite, IMMEDIATE transactions serialise writers; on Postgres the row lock does.
    """
    with transaction.atomic():
        participant, gate, stored, ticket_refused = _lock_portably(event=device.event, scan=scan, scan_id=scan_id)
        if stored is not None:
            return replay(scan, scan_id, stored)
        history = accepted_history([participant.id])[participant.id] if participant else []
        return _decide_and_store(
            device=device,
            scan=scan,
            scan_id=scan_id,
            participant=participant,
            gate=gate,
            history=history,
            ticket_refused=ticket_refused,
        )


_RECORD_SCAN = "SELECT out_stored, out_fingerprint, out_status, out_body FROM gatehouse_record_scan(%s::jsonb, %s::text)"


def _record_in_one_statement(*, device: Device, scan: ScanInput, scan_id: uuid.UUID) -> ScanOutcome:
    """Postgres: lock, rules, scan row and outbox row in gatehouse_record_scan() (attendance/sql/).

    In autocommit that one statement is the whole transaction: one round trip, where the same
    steps from Python cost three and most of a check-in's CPU (bench/checkin, README). The
    rules are decide()'s; tests/attendance/test_rule_parity.py keeps the two in step.
    """
    call = _call_document(device=device, scan=scan, scan_id=scan_id)
    # Inside a caller's transaction a failed statement would poison it: give it a savepoint.
    nested = connection.in_atomic_block
    with transaction.atomic() if nested else nullcontext(), connection.wrap_database_errors:
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(_RECORD_SCAN, (call, REFUSALS_JSON))
            was_stored, fingerprint, status, body_json = cursor.fetchone()
    if was_stored:
        return replay(scan, scan_id, (fingerprint, status, json.loads(body_json)))
    if status == 201:
        if nested:
            transaction.on_commit(_wake_relay)
        else:
            _wake_relay()  # the statement has committed
    return ScanOutcome(scan_id=scan_id, status=status, body_json=body_json)


def _call_document(*, device: Device, scan: ScanInput, scan_id: uuid.UUID) -> str:
    """gatehouse_record_scan()'s p_call: the device's context and the scan, as one JSON text."""
    event = device.event
    grace = timedelta(seconds=event.checkin_grace_seconds)
    token, ticket_refused = token_to_look_up(scan.token, event=event) if scan.token is not None else (None, False)
    call = {
        "eventId": event.pk,
        "organizationId": event.organization_id,
        "deviceId": device.pk,
        "deviceGateId": device.gate_id,
        "windowStarts": (event.starts_at - grace).isoformat(),
        "windowEnds": (event.ends_at + grace).isoformat(),
        "duplicateWindowSeconds": event.duplicate_window_seconds,
        "allowMultipleCheckins": event.allow_multiple_checkins,
        "goodStanding": GOOD_STANDING,
        "relaxedCommit": not settings.CHECKIN_SYNCHRONOUS_COMMIT,
        "gateCode": scan.gate_code,
        "scanId": str(scan_id),
        "scannedAt": scan.scanned_at.isoformat(),
        "method": scan.method,
        "direction": scan.direction,
        "participantId": None if scan.participant_id is None else str(scan.participant_id),
        "token": token,
        "lookup": scan.token is None or token is not None,
        "location": scan.location,
        "deviceInfo": scan.device_info,
        "fingerprint": scan.fingerprint_value,
        "receivedAt": timezone.now().isoformat(),
        "acceptedBody": accepted_body_base(scan, scan_id),
        "outboxPayload": outbox_payload_base(device=device, scan=scan, scan_id=scan_id),
    }
    if ticket_refused:  # only then: the common call document stays as it was
        call["ticketRefused"] = True
    return json.dumps(call, separators=(",", ":"))


def _wake_relay() -> None:
    outbox_committed.send(sender=OutboxEvent, outbox_id=None)


def _lock_portably(*, event, scan: ScanInput, scan_id: uuid.UUID):
    participant = None
    filters: dict = {"event": event}
    if scan.participant_id is not None:
        filters["public_id"] = scan.participant_id
    token, ticket_refused = token_to_look_up(scan.token, event=event) if scan.token is not None else (None, False)
    if scan.token is not None:
        filters["token"] = token
    if scan.token is None or token is not None:
        row = Participant.objects.select_for_update().filter(**filters).values_list("id", "public_id", "status", "name").first()
        participant = ParticipantRow(*row) if row else None
    stored = stored_verdict(scan_id) if scan.scan_id else None
    return participant, find_gate(event, scan.gate_code), stored, ticket_refused


def _decide_and_store(*, device, scan, scan_id, participant, gate, history, ticket_refused=False) -> ScanOutcome:
    event = device.event
    refusal, direction = decide(
        device=device, scan=scan, gate=gate, participant=participant, history=history, ticket_refused=ticket_refused
    )
    status, result, body = answer(
        scan=scan, scan_id=scan_id, refusal=refusal, direction=direction, gate_code=scan.gate_code, participant=participant
    )
    row = scan_row(
        device=device,
        scan=scan,
        scan_id=scan_id,
        participant=participant,
        gate=gate,
        received_at=timezone.now(),
        direction=direction,
        result=result,
        status=status,
        body=body,
        reason=refusal,
    )
    insert_scans([row])
    if refusal is None:
        payload = outbox_payload(device=device, scan=scan, scan_id=scan_id, direction=direction, participant=participant)
        publish(topic=Topic.ATTENDANCE_RECORDED, event_id=event.pk, organization_id=event.organization_id, payload=payload)
    return ScanOutcome(scan_id=scan_id, status=status, parsed_body=body)
