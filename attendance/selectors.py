"""Check-in reads shared by the gate API: ticket summaries, gate-sync pages, a stats snapshot.

Everything is computed from Participant and Scan by SQL, so it is always consistent with the
audit trail (analytics may later serve the same shapes from counters).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from attendance.models import Scan
from config.errors import DomainError
from events.models import Event
from gates.models import Gate
from participants.models import Participant
from participants.tokens import normalize_token

SYNC_PAGE_SIZE = 1000


class ParticipantNotFound(DomainError):
    code = "participant_not_found"
    http_status = 404


class InvalidCursor(DomainError):
    code = "invalid_cursor"


def ticket_summary(*, event: Event, token: str) -> dict:
    """The participant a ticket token belongs to in `event`, without recording anything."""
    normalized = normalize_token(token)
    participant = (
        Participant.objects.filter(event=event, token=normalized).only("public_id", "name", "status").first()
        if normalized
        else None
    )
    if participant is None:
        raise ParticipantNotFound("No participant with this token in this event.", details={"token": ["unknown"]})
    checked_in = Scan.objects.filter(
        participant=participant, result=Scan.Result.ACCEPTED, direction=Scan.Direction.ENTRY
    ).exists()
    return {
        "valid": participant.is_in_good_standing,
        "participant": {
            "id": str(participant.public_id),
            "name": participant.name,
            "status": participant.status,
            "checkedIn": checked_in,
        },
    }


@dataclass(frozen=True)
class SyncCursor:
    """Position in an event's participants ordered by (updated_at, id): opaque base64url to clients."""

    updated_at: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.updated_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "SyncCursor":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            stamp, pk = json.loads(raw)
            updated_at = datetime.fromisoformat(stamp)
            if timezone.is_naive(updated_at) or type(pk) is not int or not 0 <= pk < 2**63:
                raise ValueError("bad cursor")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursor("The cursor is not one this server issued.", details={"cursor": ["invalid"]}) from exc
        return cls(updated_at, pk)


def gate_sync_page(*, event: Event, cursor: str | None, page_size: int | None = None) -> dict:
    """One page of participants changed after `cursor` (all of them from the start when None).

    Keyset pagination on the (event, updated_at, id) index: every page costs the same however
    deep into 100,000 participants it is. `nextCursor` is always returned; a client keeps the
    last one to ask later for what changed since. Known limit: updated_at is set when a write
    starts, so a row committed after a later-stamped row was synced can be skipped until it
    changes again; a full sync (no cursor) always sees everything.
    """
    page_size = page_size or SYNC_PAGE_SIZE
    position = SyncCursor.decode(cursor) if cursor else None
    with connection.cursor() as db:
        sql = f"SELECT id, updated_at, public_id, token, name, status FROM {Participant._meta.db_table} WHERE event_id = %s"  # noqa: S608
        params: list = [event.pk]
        if position is not None:
            sql += " AND (updated_at, id) > (%s, %s)"
            params += [position.updated_at, position.id]
        db.execute(sql + " ORDER BY updated_at, id LIMIT %s", [*params, page_size + 1])
        rows = db.fetchall()
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if rows:
        position = SyncCursor(rows[-1][1], rows[-1][0])
    gates = Gate.objects.filter(event=event).order_by("code").values_list("code", "name", "direction", "is_active")
    return {
        "event": event.slug,
        "publicKey": base64.urlsafe_b64encode(bytes(event.signing_public_key)).decode().rstrip("="),
        "participants": [
            {"id": str(public_id), "token": token, "name": name, "status": status}
            for _, _, public_id, token, name, status in rows
        ],
        "gates": [
            {"id": code, "name": name, "direction": direction, "isActive": active} for code, name, direction, active in gates
        ],
        "nextCursor": position.encode() if position else "",
        "hasMore": has_more,
    }
