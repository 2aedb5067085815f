"""Check-in rules: the inputs, the verdicts and the pure decision (no database here)."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from attendance.models import Scan
from events.errors import DomainError
from gates.models import Device, Gate
from participants.models import Participant
from participants.tickets.qr import VERSION as TICKET_VERSION
from participants.tickets.qr import InvalidTicket, verify_ticket
from participants.tokens import normalize_token

_GOOD_STANDING = frozenset(Participant.GOOD_STANDING)


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
    """One scan's verdict, as data: accepted, refused by a rule (stored like an accepted scan), a
    replay of a stored verdict, or an idempotency conflict (a scanId reused for another scan;
    nothing stored). `status` and `body` are what the device is answered; the API's one
    translation of verdicts is attendance/api/verdicts.py. The body is a dict or the JSON text
    Postgres stored (sent on unchanged)."""

    scan_id: uuid.UUID
    status: int
    parsed_body: dict | None = None
    body_json: str | None = None
    replayed: bool = False

    @functools.cached_property
    def body(self) -> dict:
        return self.parsed_body if self.parsed_body is not None else json.loads(self.body_json)

    @property
    def is_accepted(self) -> bool:
        return self.status == 201

    @property
    def code(self) -> str | None:
        """The refusal's stable code (or `idempotency_conflict`); None if accepted."""
        return None if self.is_accepted else self.body["error"]["code"]

    @property
    def is_duplicate(self) -> bool:
        """Refused as a duplicate (stored result `duplicate`): the participant was let in already."""
        return self.code in DUPLICATE_CODES


IDEMPOTENCY_CONFLICT = "idempotency_conflict"


def idempotency_conflict(scan_id: uuid.UUID) -> ScanOutcome:
    """The verdict on a scanId already stored for a different scan: 409, and nothing is stored.

    A verdict rather than an exception: a batch answers it per scan beside the others, and the
    single endpoint answers it as it answers every verdict.
    """
    message = "This scanId was already used for a different scan."
    body = {"error": {"code": IDEMPOTENCY_CONFLICT, "message": message, "details": {"scanId": str(scan_id), "field": "scanId"}}}
    return ScanOutcome(scan_id=scan_id, status=409, parsed_body=body)


# --- the rules ------------------------------------------------------------------------------

_REFUSALS = {
    # code: (HTTP status, stored result, message)
    "gate_not_found": (404, Scan.Result.REJECTED, "No gate with this id in the device's event."),
    "gate_not_allowed": (403, Scan.Result.REJECTED, "This device is bound to another gate."),
    "gate_inactive": (400, Scan.Result.REJECTED, "This gate is not active."),
    "direction_not_allowed": (400, Scan.Result.REJECTED, "This gate does not record scans in this direction."),
    "outside_event_window": (400, Scan.Result.REJECTED, "The scan time is outside the event's check-in window."),
    "invalid_ticket": (
        400,
        Scan.Result.REJECTED,
        "The QR code is not a valid ticket of this event: altered, forged or another event's.",
    ),
    "participant_not_found": (404, Scan.Result.REJECTED, "No participant with this id or token in this event."),
    "participant_inactive": (400, Scan.Result.REJECTED, "The participant is cancelled or blocked."),
    "duplicate_scan": (409, Scan.Result.DUPLICATE, "The participant was scanned at this gate moments ago."),
    "already_checked_in": (409, Scan.Result.DUPLICATE, "The participant is already checked in."),
}


# Read-only, for the API's documentation: every refusal code with its status, stored result, message.
REFUSALS = _REFUSALS
DUPLICATE_CODES = frozenset(code for code, (_, result, _) in _REFUSALS.items() if result == Scan.Result.DUPLICATE)


@dataclass(frozen=True)
class GateRow:
    id: int
    code: str
    direction: str
    is_active: bool


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    public_id: uuid.UUID
    status: str
    name: str


@dataclass(frozen=True)
class AcceptedScan:
    """An accepted scan of a participant: what the inside/outside and duplicate rules look at."""

    gate_id: int
    direction: str
    scanned_at: datetime


def decide(
    *,
    device: Device,
    scan: ScanInput,
    gate: GateRow | None,
    participant: ParticipantRow | None,
    history: list[AcceptedScan],
    ticket_refused: bool = False,
) -> tuple[str | None, str]:
    """(refusal code or None if accepted, direction). Pure: the caller holds the participant lock.

    `ticket_refused`: the scan's token was a QR code's text whose signature did not verify
    (see token_to_look_up); it is then refused where an unknown participant would be.
    """
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
    if ticket_refused:
        return "invalid_ticket", direction
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


_TICKET_PREFIX = TICKET_VERSION + ":"


def is_ticket_text(text: str) -> bool:
    """Whether a sent token is the QR code's text (GH1:<token>:<signature>), not a printed token."""
    return text[:4].upper() == _TICKET_PREFIX


def ticket_token(text: str, *, event) -> str:
    """The token to look up for a sent `token`: the QR code's text verified with the event's
    public key, anything else as sent (a printed or bare token). Raises InvalidTicket."""
    if not is_ticket_text(text):
        return text
    return verify_ticket(text, bytes(event.signing_public_key))


def token_to_look_up(text: str, *, event) -> tuple[str | None, bool]:
    """(normalised token or None if it cannot be anyone's, whether it is a refused QR ticket)."""
    if not is_ticket_text(text):
        return normalize_token(text), False
    try:
        return verify_ticket(text, bytes(event.signing_public_key)), False
    except InvalidTicket:
        return None, True


def _is_inside(history: list[AcceptedScan]) -> bool:
    # The latest accepted scan (device time) says where the participant is; offline scans may
    # arrive late, so "latest" is by scanned_at, not by arrival.
    return bool(history) and max(history, key=lambda a: a.scanned_at).direction == Scan.Direction.ENTRY


def _default_direction(gate: GateRow, history: list[AcceptedScan]) -> str:
    if gate.direction == Gate.Direction.EXIT:
        return Scan.Direction.EXIT
    if gate.direction == Gate.Direction.BOTH and _is_inside(history):
        return Scan.Direction.EXIT
    return Scan.Direction.ENTRY


def answer(
    *, scan: ScanInput, scan_id: uuid.UUID, refusal: str | None, direction: str, gate_code: str, participant
) -> tuple[int, str, dict]:
    """(HTTP status, stored result, body) — the verdict exactly as the device will see it."""
    if refusal is None:
        body = {
            **accepted_body_base(scan, scan_id),
            "direction": direction,
            "participant": {"id": str(participant.public_id), "name": participant.name, "status": participant.status},
        }
        return 201, Scan.Result.ACCEPTED.value, body
    status, result, message = _REFUSALS[refusal]
    details = {"scanId": str(scan_id), "result": result.value}
    return status, result.value, {"error": {"code": refusal, "message": message, "details": details}}


def accepted_body_base(scan: ScanInput, scan_id: uuid.UUID) -> dict:
    """The accepted answer without what the database decides (direction, participant)."""
    return {
        "scanId": str(scan_id),
        "result": Scan.Result.ACCEPTED.value,
        "method": scan.method,
        "gateId": scan.gate_code,
        "timestamp": scan.scanned_at.isoformat(),
    }


# The refusal table as gatehouse_record_scan() takes it: {code: [status, stored result, message]}.
REFUSALS_JSON = json.dumps({code: [status, result.value, message] for code, (status, result, message) in _REFUSALS.items()})
GOOD_STANDING = sorted(_GOOD_STANDING)


def outbox_payload(*, device: Device, scan: ScanInput, scan_id: uuid.UUID, direction: str, participant) -> dict:
    return {
        **outbox_payload_base(device=device, scan=scan, scan_id=scan_id),
        "participantId": str(participant.public_id),
        "direction": direction,
    }


def outbox_payload_base(*, device: Device, scan: ScanInput, scan_id: uuid.UUID) -> dict:
    """attendance.recorded without what the database decides (participantId, direction)."""
    # Identifiers only: subscribers that need a name look it up with their own access rights.
    return {
        "scanId": str(scan_id),
        "eventSlug": device.event.slug,
        "gateId": scan.gate_code,
        "method": scan.method,
        "scannedAt": scan.scanned_at.isoformat(),
        "result": Scan.Result.ACCEPTED.value,
        "deviceId": device.pk,
    }
