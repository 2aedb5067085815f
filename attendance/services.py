"""Check-in writes: record_scan() for one scan, record_batch() for an offline device's backlog.

Contract (both): every identifiable scan is stored — accepted or not — together with the exact
status and body it was answered with, so a replayed scanId gets the same answer and stores
nothing new; the participant row is locked for the decision, so of any number of concurrent
scans of one participant exactly the rules' number is accepted; an accepted scan writes its
`attendance.recorded` outbox row in the same transaction. Nothing here calls Redis.

Why raw SQL (psycopg, pipeline mode) on Postgres: this is the hottest path of the product
(benchmarked in bench/checkin); the statements are few, fixed and parameterised, and each
round trip and ORM layer skipped is measurable there. Other databases (the embedded SQLite
mode) take the same steps through the ORM. The rules themselves are plain Python in `_decide()`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from attendance.models import Scan
from config.errors import DomainError
from gates.models import Device, Gate
from integrations.outbox import Topic, publish, publish_many
from participants.models import Participant
from participants.tokens import normalize_token

MAX_BATCH_SIZE = 1000

_SCAN = Scan._meta.db_table
_PARTICIPANT = Participant._meta.db_table
_GATE = Gate._meta.db_table
_GOOD_STANDING = frozenset(Participant.GOOD_STANDING)


class ScanRejected(DomainError):
    """A scan that was stored but not accepted; `as_body()` is exactly what was answered first."""

    def __init__(self, *, status: int, body: dict) -> None:
        error = body.get("error", {})
        super().__init__(error.get("message", ""), code=error.get("code"), details=error.get("details"), http_status=status)
        self.body = body

    def as_body(self) -> dict:
        return self.body


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    http_status = 409


class BatchTooLarge(DomainError):
    code = "batch_too_large"


@dataclass(frozen=True)
class ScanInput:
    """One scan as a device sent it (already validated for shape)."""

    gate_code: str
    scanned_at: datetime
    method: str
    participant_id: uuid.UUID | None = None
    token: str | None = None
    scan_id: uuid.UUID | None = None
    direction: str | None = None
    location: dict | None = None
    device_info: dict | None = None

    @functools.cached_property
    def fingerprint_value(self) -> str:
        return self.fingerprint()

    def fingerprint(self) -> str:
        """What identifies the request behind a scanId: the same id with another body is a conflict."""
        canonical = json.dumps(
            [
                str(self.participant_id) if self.participant_id else None,
                self.token,
                self.gate_code,
                self.scanned_at.astimezone(UTC).isoformat(),
                self.method,
                self.direction,
                self.location,
                self.device_info,
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ScanOutcome:
    scan_id: uuid.UUID
    status: int
    body: dict
    replayed: bool = False

    @property
    def is_accepted(self) -> bool:
        return self.status == 201


@dataclass
class BatchOutcome:
    successful: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)

    def as_body(self) -> dict:
        return {"successful": self.successful, "duplicates": self.duplicates, "failed": self.failed}


# --- the rules ------------------------------------------------------------------------------

_REFUSALS = {
    # code: (HTTP status, stored result, message)
    "gate_not_found": (404, Scan.Result.REJECTED, "No gate with this id in the device's event."),
    "gate_not_allowed": (403, Scan.Result.REJECTED, "This device is bound to another gate."),
    "gate_inactive": (400, Scan.Result.REJECTED, "This gate is not active."),
    "direction_not_allowed": (400, Scan.Result.REJECTED, "This gate does not record scans in this direction."),
    "outside_event_window": (400, Scan.Result.REJECTED, "The scan time is outside the event's check-in window."),
    "participant_not_found": (404, Scan.Result.REJECTED, "No participant with this id or token in this event."),
    "participant_inactive": (400, Scan.Result.REJECTED, "The participant is cancelled or blocked."),
    "duplicate_scan": (409, Scan.Result.DUPLICATE, "The participant was scanned at this gate moments ago."),
    "already_checked_in": (409, Scan.Result.DUPLICATE, "The participant is already checked in."),
}


@dataclass(frozen=True)
class _GateRow:
    id: int
    code: str
    direction: str
    is_active: bool


@dataclass(frozen=True)
class _ParticipantRow:
    id: int
    public_id: uuid.UUID
    status: str
    name: str


@dataclass(frozen=True)
class _Accepted:
    """An accepted scan of a participant: what the inside/outside and duplicate rules look at."""

    gate_id: int
    direction: str
    scanned_at: datetime


def _decide(
    *,
    device: Device,
    scan: ScanInput,
    gate: _GateRow | None,
    participant: _ParticipantRow | None,
    history: list[_Accepted],
) -> tuple[str | None, str]:
    """(refusal code or None if accepted, direction). Pure: the caller holds the participant lock."""
    event = device.event
    direction = scan.direction or Scan.Direction.ENTRY
    if gate is None:
        return "gate_not_found", direction
    if device.gate_id is not None and device.gate_id != gate.id:
        return "gate_not_allowed", direction
    if not gate.is_active:
        return "gate_inactive", direction
    if scan.direction is None:
        direction = _default_direction(gate, history)
    elif gate.direction != Gate.Direction.BOTH and gate.direction != direction:
        return "direction_not_allowed", direction
    grace = timedelta(seconds=event.checkin_grace_seconds)
    if not (event.starts_at - grace <= scan.scanned_at <= event.ends_at + grace):
        return "outside_event_window", direction
    if participant is None:
        return "participant_not_found", direction
    if participant.status not in _GOOD_STANDING:
        return "participant_inactive", direction
    window = timedelta(seconds=event.duplicate_window_seconds)
    if any(a.gate_id == gate.id and abs(a.scanned_at - scan.scanned_at) < window for a in history):
        return "duplicate_scan", direction
    if direction == Scan.Direction.ENTRY and not event.allow_multiple_checkins and _is_inside(history):
        return "already_checked_in", direction
    return None, direction


def _is_inside(history: list[_Accepted]) -> bool:
    # The latest accepted scan (device time) says where the participant is; offline scans may
    # arrive late, so "latest" is by scanned_at, not by arrival.
    return bool(history) and max(history, key=lambda a: a.scanned_at).direction == Scan.Direction.ENTRY


def _default_direction(gate: _GateRow, history: list[_Accepted]) -> str:
    if gate.direction == Gate.Direction.EXIT:
        return Scan.Direction.EXIT
    if gate.direction == Gate.Direction.BOTH and _is_inside(history):
        return Scan.Direction.EXIT
    return Scan.Direction.ENTRY


def _answer(
    *, scan: ScanInput, scan_id: uuid.UUID, refusal: str | None, direction: str, gate_code: str, participant
) -> tuple[int, str, dict]:
    """(HTTP status, stored result, body) — the verdict exactly as the device will see it."""
    if refusal is None:
        body = {
            "scanId": str(scan_id),
            "result": Scan.Result.ACCEPTED.value,
            "direction": direction,
            "method": scan.method,
            "gateId": gate_code,
            "timestamp": scan.scanned_at.isoformat(),
            "participant": {"id": str(participant.public_id), "name": participant.name, "status": participant.status},
        }
        return 201, Scan.Result.ACCEPTED.value, body
    status, result, message = _REFUSALS[refusal]
    details = {"scanId": str(scan_id), "result": result.value}
    return status, result.value, {"error": {"code": refusal, "message": message, "details": details}}


def _outbox_payload(*, device: Device, scan: ScanInput, scan_id: uuid.UUID, direction: str, participant) -> dict:
    # Identifiers only: subscribers that need a name look it up with their own access rights.
    return {
        "scanId": str(scan_id),
        "eventSlug": device.event.slug,
        "participantId": str(participant.public_id),
        "gateId": scan.gate_code,
        "direction": direction,
        "method": scan.method,
        "scannedAt": scan.scanned_at.isoformat(),
        "result": Scan.Result.ACCEPTED.value,
        "deviceId": device.pk,
    }


# --- storage --------------------------------------------------------------------------------

# One INSERT … SELECT FROM unnest(arrays): a batch of 1000 scans is one statement with 16
# parameters (arrays), which psycopg sends far faster than 16,000 separate placeholders.
_INSERT_SCANS = f"""
INSERT INTO {_SCAN} (scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
                     result, reason, location, device_info, request_fingerprint, response_status, response_body)
SELECT scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
       result, reason, location::jsonb, device_info::jsonb, request_fingerprint, response_status, response_body::jsonb
FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
            %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::smallint[], %s::text[])
  AS rows(scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
          result, reason, location, device_info, request_fingerprint, response_status, response_body)
"""  # noqa: S608 - table name from the model, values are parameters


def _as_json(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _scan_row(*, device, scan, scan_id, participant, gate, received_at, direction, result, status, body, reason) -> tuple:
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


_INSERT_SCAN = f"""
INSERT INTO {_SCAN} (scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
                     result, reason, location, device_info, request_fingerprint, response_status, response_body)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""  # noqa: S608 - table name from the model, values are parameters


def _insert_scans(rows: list[tuple], *, cursor: psycopg.Cursor | None = None) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        _insert_scans_portably(rows)
        return
    if cursor is None:
        # Server-side binding on the same connection and transaction: Django's psycopg cursor
        # binds client-side, quoting every array element in Python, which cost more than the insert.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as own:
            _insert_scans(rows, cursor=own)
        return
    if len(rows) == 1:
        cursor.execute(_INSERT_SCAN, rows[0])
    else:
        cursor.execute(_INSERT_SCANS, [list(column) for column in zip(*rows, strict=True)])


_ROW_FIELDS = [
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
                **{name: _loaded(value) if name in _JSON_FIELDS else value for name, value in zip(_ROW_FIELDS, row, strict=True)}
            )
            for row in rows
        ]
    )


def _stored_verdict(scan_id: uuid.UUID) -> tuple[str, int, dict] | None:
    row = Scan.objects.filter(scan_id=scan_id).values_list("request_fingerprint", "response_status", "response_body").first()
    return None if row is None else (row[0], row[1], _loaded(row[2]))


def _loaded(value):
    return json.loads(value) if isinstance(value, str) else value


def _replay(scan: ScanInput, scan_id: uuid.UUID, stored: tuple[str, int, dict]) -> ScanOutcome:
    fingerprint, status, body = stored
    if fingerprint != scan.fingerprint_value:
        raise IdempotencyConflict(
            "This scanId was already used for a different scan.", details={"scanId": str(scan_id), "field": "scanId"}
        )
    return ScanOutcome(scan_id=scan_id, status=status, body=body, replayed=True)


def _participant_condition(scan: ScanInput) -> tuple[str, list] | None:
    """The WHERE fragment that finds the scan's participant, or None if it cannot match anyone."""
    conditions, params = [], []
    if scan.participant_id is not None:
        conditions.append("p.public_id = %s")
        params.append(scan.participant_id)
    if scan.token is not None:
        token = normalize_token(scan.token)
        if token is None:
            return None
        conditions.append("p.token = %s")
        params.append(token)
    return " AND ".join(conditions), params


def _history(participant_ids: list[int]) -> dict[int, list[_Accepted]]:
    """Accepted scans of these participants (the caller holds their locks)."""
    history: dict[int, list[_Accepted]] = {pid: [] for pid in participant_ids}
    if not participant_ids:
        return history
    rows = Scan.objects.filter(participant_id__in=participant_ids, result=Scan.Result.ACCEPTED).values_list(
        "participant_id", "gate_id", "direction", "scanned_at"
    )
    for participant_id, gate_id, direction, scanned_at in rows:
        history[participant_id].append(_Accepted(gate_id, direction, scanned_at))
    return history


# --- one scan -------------------------------------------------------------------------------


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
        stored = _stored_verdict(scan.scan_id)
        if stored is None:
            raise
        outcome = _replay(scan, scan.scan_id, stored)
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
                return _replay(scan, scan_id, stored)
            history = _history([participant.id])[participant.id] if participant else []
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
            return _replay(scan, scan_id, stored)
        return _decide_and_store(
            device=device, scan=scan, scan_id=scan_id, participant=participant, gate=gate, history=history, cursor=cursor
        )


def _lock(cursor: psycopg.Cursor, history_cursor: psycopg.Cursor, *, event, scan: ScanInput, scan_id: uuid.UUID):
    """(participant, gate, stored verdict, accepted history), the participant row locked.

    The history query is sent in the same flight but is its own statement: Postgres runs it
    after the lock is granted, with a fresh snapshot (READ COMMITTED), so it sees every scan
    committed by whoever held the lock before. (In the locking statement itself it would not.)
    """
    found = _participant_condition(scan)
    if found is not None:
        where, params = found
        # Lock the participant (and nothing else); the gate and a stored verdict for this scanId
        # come along in the same statement.
        cursor.execute(
            f"SELECT p.id, p.public_id, p.status, p.name, g.id, g.code, g.direction, g.is_active, "  # noqa: S608
            f"s.request_fingerprint, s.response_status, s.response_body "
            f"FROM {_PARTICIPANT} p "
            f"LEFT JOIN {_GATE} g ON g.event_id = p.event_id AND g.code = %s "
            f"LEFT JOIN {_SCAN} s ON s.scan_id = %s "
            f"WHERE p.event_id = %s AND {where} FOR UPDATE OF p",
            [scan.gate_code, scan_id, event.pk, *params],
        )
        history_cursor.execute(
            f"SELECT s.gate_id, s.direction, s.scanned_at FROM {_SCAN} s "  # noqa: S608
            f"JOIN {_PARTICIPANT} p ON p.id = s.participant_id "
            f"WHERE p.event_id = %s AND {where} AND s.result = 'accepted'",
            [event.pk, *params],
        )
        row = cursor.fetchone()
        history = [_Accepted(*accepted) for accepted in history_cursor.fetchall()]
        if row is not None:
            participant = _ParticipantRow(*row[0:4])
            gate = _GateRow(*row[4:8]) if row[4] is not None else None
            stored = (row[8], row[9], _loaded(row[10])) if row[8] is not None else None
            return participant, gate, stored, history
    # Rare path: nobody to lock; still find the gate and a stored verdict for the audit row.
    return None, _gate(event, scan.gate_code), _stored_verdict(scan_id) if scan.scan_id else None, []


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
        participant = _ParticipantRow(*row) if row else None
    return participant, _gate(event, scan.gate_code), _stored_verdict(scan_id) if scan.scan_id else None


def _gate(event, code: str) -> _GateRow | None:
    row = Gate.objects.filter(event=event, code=code).values_list("id", "code", "direction", "is_active").first()
    return _GateRow(*row) if row else None


def _decide_and_store(*, device, scan, scan_id, participant, gate, history, cursor=None) -> ScanOutcome:
    event = device.event
    refusal, direction = _decide(device=device, scan=scan, gate=gate, participant=participant, history=history)
    status, result, body = _answer(
        scan=scan, scan_id=scan_id, refusal=refusal, direction=direction, gate_code=scan.gate_code, participant=participant
    )
    row = _scan_row(
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
    _insert_scans([row], cursor=cursor)
    if refusal is None:
        publish(
            topic=Topic.ATTENDANCE_RECORDED,
            event_id=event.pk,
            organization_id=event.organization_id,
            payload=_outbox_payload(device=device, scan=scan, scan_id=scan_id, direction=direction, participant=participant),
        )
    return ScanOutcome(scan_id=scan_id, status=status, body=body)


# --- a batch --------------------------------------------------------------------------------


def check_batch_size(count: int) -> None:
    if count > MAX_BATCH_SIZE:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BATCH_SIZE} scans; this one has {count}.",
            details={"scans": [f"at most {MAX_BATCH_SIZE}"]},
        )


def record_batch(*, device: Device, scans: list[ScanInput]) -> BatchOutcome:
    """Record an offline device's scans in device-time order, each with its own verdict.

    Every scan needs a scanId (the batch is the offline replay unit). Replaying a batch changes
    nothing and answers the same. A few round trips per batch regardless of its size.
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


def _record_many(*, device: Device, scans: list[ScanInput]) -> BatchOutcome:
    event = device.event
    ordered = sorted(scans, key=lambda s: s.scanned_at)  # stable: equal times keep the sent order
    outcome = BatchOutcome()
    rows, payloads = [], []
    with transaction.atomic():
        stored = {
            scan_id: (fingerprint, status, _loaded(body))
            for scan_id, fingerprint, status, body in Scan.objects.filter(scan_id__in=[s.scan_id for s in ordered]).values_list(
                "scan_id", "request_fingerprint", "response_status", "response_body"
            )
        }
        gates = {
            row[1]: _GateRow(*row)
            for row in Gate.objects.filter(event=event).order_by().values_list("id", "code", "direction", "is_active")
        }
        public_ids = {s.participant_id for s in ordered if s.participant_id is not None}
        tokens = {t for s in ordered if s.token is not None and (t := normalize_token(s.token))}
        # Locked in id order, so two batches sharing participants cannot deadlock.
        locked = (
            Participant.objects.select_for_update()
            .filter(Q(public_id__in=public_ids) | Q(token__in=tokens), event=event)
            .order_by("id")
            .values_list("id", "public_id", "status", "name", "token")
        )
        by_public_id, by_token = {}, {}
        for pid, public_id, status, name, token in locked:
            participant = _ParticipantRow(pid, public_id, status, name)
            by_public_id[public_id] = participant
            by_token[token] = participant
        history = _history([p.id for p in by_public_id.values()])

        received_at = timezone.now()
        for scan in ordered:
            if scan.scan_id in stored:
                try:
                    verdict = _replay(scan, scan.scan_id, stored[scan.scan_id])
                except IdempotencyConflict as conflict:
                    outcome.failed.append({"scanId": str(scan.scan_id), "error": conflict.as_body()["error"]})
                    continue
                _classify(outcome, verdict.status, verdict.body, scan.scan_id)
                continue
            participant = _batch_participant(scan, by_public_id, by_token)
            gate = gates.get(scan.gate_code)
            past = history[participant.id] if participant else []
            refusal, direction = _decide(device=device, scan=scan, gate=gate, participant=participant, history=past)
            status, result, body = _answer(
                scan=scan,
                scan_id=scan.scan_id,
                refusal=refusal,
                direction=direction,
                gate_code=scan.gate_code,
                participant=participant,
            )
            rows.append(
                _scan_row(
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
                past.append(_Accepted(gate.id, direction, scan.scanned_at))
                payloads.append(
                    _outbox_payload(device=device, scan=scan, scan_id=scan.scan_id, direction=direction, participant=participant)
                )
            _classify(outcome, status, body, scan.scan_id)
        _insert_scans(rows)
        publish_many(topic=Topic.ATTENDANCE_RECORDED, event_id=event.pk, organization_id=event.organization_id, payloads=payloads)
    return outcome


def _batch_participant(scan: ScanInput, by_public_id: dict, by_token: dict) -> _ParticipantRow | None:
    found = None
    if scan.participant_id is not None:
        found = by_public_id.get(scan.participant_id)
        if found is None:
            return None
    if scan.token is not None:
        by_this_token = by_token.get(normalize_token(scan.token))
        if by_this_token is None or (found is not None and by_this_token.id != found.id):
            return None
        found = by_this_token
    return found


def _classify(outcome: BatchOutcome, status: int, body: dict, scan_id: uuid.UUID) -> None:
    if status == 201:
        outcome.successful.append(body)
    elif status == 409:
        outcome.duplicates.append({"scanId": str(scan_id), "error": body["error"]})
    else:
        outcome.failed.append({"scanId": str(scan_id), "error": body["error"]})
