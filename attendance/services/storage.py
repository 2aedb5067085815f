"""Storing scans and reading what the rules need: fast SQL on Postgres, the ORM elsewhere."""

from __future__ import annotations

import json
import uuid

import psycopg
from django.db import connection
from django.db.models import Q

from attendance.models import Scan
from attendance.services.rules import AcceptedScan, GateRow, ScanInput, ScanOutcome, idempotency_conflict
from gates.models import Gate
from participants.models import Participant

SCAN_TABLE = Scan._meta.db_table


# One INSERT … SELECT FROM unnest(arrays): a batch of 1000 scans is one statement with 16
# parameters (arrays), which psycopg sends far faster than 16,000 separate placeholders.
# %b: binary parameters. In text format psycopg escapes every array element with a regex,
# which was a quarter of a 1000-scan batch's CPU.
_INSERT_SCANS = f"""
INSERT INTO {SCAN_TABLE} (scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
                     result, reason, location, device_info, request_fingerprint, response_status, response_body)
SELECT scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
       result, reason, location::jsonb, device_info::jsonb, request_fingerprint, response_status, response_body::jsonb
FROM unnest(%b::uuid[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[], %b::timestamptz[], %b::timestamptz[],
            %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::smallint[], %b::text[])
  AS rows(scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
          result, reason, location, device_info, request_fingerprint, response_status, response_body)
"""  # noqa: S608 - table name from the model, values are parameters


def _as_json(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def scan_row(*, device, scan, scan_id, participant, gate, received_at, direction, result, status, body, reason) -> tuple:
    return (
        scan_id,
        device.event_id,
        participant.id if participant else None,
        gate.id if gate else None,
        device.pk,
        scan.scanned_at,
        received_at,
        scan.method,
        direction,
        result,
        reason or "",
        _as_json(scan.location),
        _as_json(scan.device_info),
        scan.fingerprint_value,
        status,
        _as_json(body),
    )


def insert_scans(rows: list[tuple], *, cursor: psycopg.Cursor | None = None) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        _insert_scans_portably(rows)
        return
    if cursor is None:
        # Server-side binding on the same connection and transaction: Django's psycopg cursor
        # binds client-side, quoting every array element in Python, which cost more than the insert.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as own:
            insert_scans(rows, cursor=own)
        return
    cursor.execute(_INSERT_SCANS, [list(column) for column in zip(*rows, strict=True)])


SCAN_ROW_FIELDS = [  # the order of scan_row()
    "scan_id",
    "event_id",
    "participant_id",
    "gate_id",
    "device_id",
    "scanned_at",
    "received_at",
    "method",
    "direction",
    "result",
    "reason",
    "location",
    "device_info",
    "request_fingerprint",
    "response_status",
    "response_body",
]
_JSON_FIELDS = {"location", "device_info", "response_body"}


def _insert_scans_portably(rows: list[tuple]) -> None:
    """The embedded (SQLite) mode: the same rows through the ORM."""
    Scan.objects.bulk_create(
        [
            Scan(
                **{
                    name: loaded_json(value) if name in _JSON_FIELDS else value
                    for name, value in zip(SCAN_ROW_FIELDS, row, strict=True)
                }
            )
            for row in rows
        ]
    )


def stored_verdict(scan_id: uuid.UUID) -> tuple[str, int, dict] | None:
    row = Scan.objects.filter(scan_id=scan_id).values_list("request_fingerprint", "response_status", "response_body").first()
    return None if row is None else (row[0], row[1], loaded_json(row[2]))


def loaded_json(value):
    return json.loads(value) if isinstance(value, str) else value


def replay(scan: ScanInput, scan_id: uuid.UUID, stored: tuple[str, int, dict]) -> ScanOutcome:
    """The stored verdict again, or an idempotency conflict if `scan` is not the scan stored."""
    fingerprint, status, body = stored
    if fingerprint != scan.fingerprint_value:
        return idempotency_conflict(scan_id)
    return ScanOutcome(scan_id=scan_id, status=status, parsed_body=body, replayed=True)


def accepted_history(participant_ids: list[int]) -> dict[int, list[AcceptedScan]]:
    """Accepted scans of these participants (the caller holds their locks)."""
    history: dict[int, list[AcceptedScan]] = {pid: [] for pid in participant_ids}
    if not participant_ids:
        return history
    if connection.vendor == "postgresql":
        rows = _fetch(
            f"SELECT participant_id, gate_id, direction, scanned_at FROM {SCAN_TABLE} "  # noqa: S608 - the model's table
            "WHERE participant_id = ANY(%b::bigint[]) AND result = 'accepted'",
            [list(participant_ids)],
        )
    else:
        rows = Scan.objects.filter(participant_id__in=participant_ids, result=Scan.Result.ACCEPTED).values_list(
            "participant_id", "gate_id", "direction", "scanned_at"
        )
    for participant_id, gate_id, direction, scanned_at in rows:
        history[participant_id].append(AcceptedScan(gate_id, direction, scanned_at))
    return history


def stored_verdicts(scan_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int, dict]]:
    """The stored verdict of each of these scanIds that is stored already."""
    if connection.vendor == "postgresql":
        rows = _fetch(
            f"SELECT scan_id, request_fingerprint, response_status, response_body FROM {SCAN_TABLE} "  # noqa: S608
            "WHERE scan_id = ANY(%b::uuid[])",
            [list(scan_ids)],
        )
    else:
        rows = Scan.objects.filter(scan_id__in=scan_ids).values_list(
            "scan_id", "request_fingerprint", "response_status", "response_body"
        )
    return {scan_id: (fingerprint, status, loaded_json(body)) for scan_id, fingerprint, status, body in rows}


def lock_participants(*, event, public_ids: set[uuid.UUID], tokens: set[str]) -> list[tuple]:
    """Lock the event's participants with these public ids or tokens, in id order (so two
    batches sharing participants cannot deadlock): (id, public_id, status, name, token) rows."""
    if connection.vendor == "postgresql":
        return _fetch(
            f"SELECT id, public_id, status, name, token FROM {Participant._meta.db_table} "  # noqa: S608
            "WHERE event_id = %s AND (public_id = ANY(%b::uuid[]) OR token = ANY(%b::text[])) ORDER BY id FOR UPDATE",
            [event.pk, list(public_ids), list(tokens)],
        )
    return list(
        Participant.objects.select_for_update()
        .filter(Q(public_id__in=public_ids) | Q(token__in=tokens), event=event)
        .order_by("id")
        .values_list("id", "public_id", "status", "name", "token")
    )


def _fetch(sql: str, params: list) -> list[tuple]:
    # A psycopg cursor on Django's connection and transaction, with arrays as parameters: the
    # ORM's `__in` wrote 1000 placeholders, and psycopg re-split each such query text in Python
    # (the largest client-side item of a batch's profile).
    with connection.wrap_database_errors:
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def find_gate(event, code: str) -> GateRow | None:
    row = Gate.objects.filter(event=event, code=code).values_list("id", "code", "direction", "is_active").first()
    return GateRow(*row) if row else None
