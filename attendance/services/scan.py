"""record_scan(): one scan, one transaction, three round trips on Postgres."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attendance.services.rules import (
    AcceptedScan,
    GateRow,
    ParticipantRow,
    ScanInput,
    ScanOutcome,
    ScanRejected,
    answer,
    decide,
    outbox_payload,
)
from attendance.services.storage import (
    GATE_TABLE,
    PARTICIPANT_TABLE,
    SCAN_TABLE,
    accepted_history,
    find_gate,
    insert_scans,
    loaded_json,
    participant_condition,
    replay,
    scan_row,
    stored_verdict,
)
from gates.models import Device
from integrations.outbox import Topic, publish_many
from participants.models import Participant
from participants.tokens import normalize_token


def record_scan(
    *,
    device: Device,
    gate_code: str,
    scanned_at: datetime,
    method: str,
    participant_id: uuid.UUID | None = None,
    token: str | None = None,
    scan_id: uuid.UUID | None = None,
    location: dict | None = None,
    device_info: dict | None = None,
    direction: str | None = None,
) -> ScanOutcome:
    """Record one scan from `device` (its event is implied) and return the accepted verdict.

    Raises ScanRejected (stored, with the answered status and body), IdempotencyConflict
    (scanId reused for another body; nothing stored). A replayed scanId returns or raises
    exactly what the first call did.
    """
    scan = ScanInput(
        gate_code=gate_code,
        scanned_at=scanned_at,
        method=method,
        participant_id=participant_id,
        token=token,
        scan_id=scan_id,
        direction=direction,
        location=location,
        device_info=device_info,
    )
    try:
        outcome = _record_one(device=device, scan=scan)
    except IntegrityError:
        # A concurrent request stored the same scanId first: answer as a replay of it.
        if scan.scan_id is None:
            raise
        stored = stored_verdict(scan.scan_id)
        if stored is None:
            raise
        outcome = replay(scan, scan.scan_id, stored)
    if not outcome.is_accepted:
        raise ScanRejected(status=outcome.status, body=outcome.body)
    return outcome


def _record_one(*, device: Device, scan: ScanInput) -> ScanOutcome:
    scan_id = scan.scan_id or uuid.uuid4()
    event = device.event
    if connection.vendor != "postgresql":
        # Embedded mode (SQLite): IMMEDIATE transactions serialise writers, the ORM does the rest.
        with transaction.atomic():
            participant, gate, stored = _lock_portably(event=event, scan=scan, scan_id=scan_id)
            if stored is not None:
                return replay(scan, scan_id, stored)
            history = accepted_history([participant.id])[participant.id] if participant else []
            return _decide_and_store(
                device=device, scan=scan, scan_id=scan_id, participant=participant, gate=gate, history=history
            )

    # Pipeline mode: statements whose results are not needed yet travel together, so a
    # check-in costs three round trips (BEGIN+lock+history, scan+outbox inserts, COMMIT)
    # instead of seven; under CPU contention every round trip is a wake-up to wait for.
    with (
        transaction.atomic(),
        connection.wrap_database_errors,
        connection.connection.pipeline(),
        psycopg.Cursor(connection.connection) as cursor,
        psycopg.Cursor(connection.connection) as history_cursor,
    ):
        if not settings.CHECKIN_SYNCHRONOUS_COMMIT:
            # Opt-in trade (see README, Benchmarks → Check-in): COMMIT returns before the WAL
            # flush, so a Postgres crash may lose the last fraction of a second of acknowledged
            # scans — never half of one, and never the scan without its outbox row.
            cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
        participant, gate, stored, history = _lock(cursor, history_cursor, event=event, scan=scan, scan_id=scan_id)
        if stored is not None:
            return replay(scan, scan_id, stored)
        return _decide_and_store(
            device=device, scan=scan, scan_id=scan_id, participant=participant, gate=gate, history=history, cursor=cursor
        )


def _lock(cursor: psycopg.Cursor, history_cursor: psycopg.Cursor, *, event, scan: ScanInput, scan_id: uuid.UUID):
    """(participant, gate, stored verdict, accepted history), the participant row locked.

    The history query is sent in the same flight but is its own statement: Postgres runs it
    after the lock is granted, with a fresh snapshot (READ COMMITTED), so it sees every scan
    committed by whoever held the lock before. (In the locking statement itself it would not.)
    """
    found = participant_condition(scan)
    if found is not None:
        where, params = found
        # Lock the participant (and nothing else); the gate and a stored verdict for this scanId
        # come along in the same statement.
        cursor.execute(
            f"SELECT p.id, p.public_id, p.status, p.name, g.id, g.code, g.direction, g.is_active, "  # noqa: S608
            f"s.request_fingerprint, s.response_status, s.response_body "
            f"FROM {PARTICIPANT_TABLE} p "
            f"LEFT JOIN {GATE_TABLE} g ON g.event_id = p.event_id AND g.code = %s "
            f"LEFT JOIN {SCAN_TABLE} s ON s.scan_id = %s "
            f"WHERE p.event_id = %s AND {where} FOR UPDATE OF p",
            [scan.gate_code, scan_id, event.pk, *params],
        )
        history_cursor.execute(
            f"SELECT s.gate_id, s.direction, s.scanned_at FROM {SCAN_TABLE} s "  # noqa: S608
            f"JOIN {PARTICIPANT_TABLE} p ON p.id = s.participant_id "
            f"WHERE p.event_id = %s AND {where} AND s.result = 'accepted'",
            [event.pk, *params],
        )
        row = cursor.fetchone()
        history = [AcceptedScan(*accepted) for accepted in history_cursor.fetchall()]
        if row is not None:
            participant = ParticipantRow(*row[0:4])
            gate = GateRow(*row[4:8]) if row[4] is not None else None
            stored = (row[8], row[9], loaded_json(row[10])) if row[8] is not None else None
            return participant, gate, stored, history
    # Rare path: nobody to lock; still find the gate and a stored verdict for the audit row.
    return None, find_gate(event, scan.gate_code), stored_verdict(scan_id) if scan.scan_id else None, []


def _lock_portably(*, event, scan: ScanInput, scan_id: uuid.UUID):
    participant = None
    filters: dict = {"event": event}
    if scan.participant_id is not None:
        filters["public_id"] = scan.participant_id
    token = normalize_token(scan.token) if scan.token is not None else None
    if scan.token is not None:
        filters["token"] = token
    if scan.token is None or token is not None:
        row = Participant.objects.select_for_update().filter(**filters).values_list("id", "public_id", "status", "name").first()
        participant = ParticipantRow(*row) if row else None
    return participant, find_gate(event, scan.gate_code), stored_verdict(scan_id) if scan.scan_id else None


def _decide_and_store(*, device, scan, scan_id, participant, gate, history, cursor=None) -> ScanOutcome:
    event = device.event
    refusal, direction = decide(device=device, scan=scan, gate=gate, participant=participant, history=history)
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
    insert_scans([row], cursor=cursor)
    if refusal is None:
        # publish_many: one raw INSERT riding the check-in's pipeline (the ORM's create() cost
        # ~1 ms of CPU per check-in); same transaction, same guarantees as publish().
        publish_many(
            topic=Topic.ATTENDANCE_RECORDED,
            event_id=event.pk,
            organization_id=event.organization_id,
            payloads=[outbox_payload(device=device, scan=scan, scan_id=scan_id, direction=direction, participant=participant)],
        )
    return ScanOutcome(scan_id=scan_id, status=status, body=body)
