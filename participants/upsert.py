"""Set-based create-or-update of participants: what imports and the bulk API write with.

`write_participants` writes a batch with one INSERT .. ON CONFLICT (event, lower(email)) DO
UPDATE, so existing emails are updated (changed fields only) and never created twice, even
when an API registration races it; new participants get tokens; one outbox row per created or
updated participant is bulk-inserted in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from events.models import Event
from integrations.outbox import OutboxEvent, Topic, outbox_committed
from participants.models import ImportJob, Participant
from participants.tokens import generate_tokens
from participants.validation import FieldError

UPDATABLE_TEXT_FIELDS = ("phone", "organization", "department", "position", "region", "external_id")


@dataclass
class RowToWrite:
    number: int
    values: dict
    metadata: dict


@dataclass
class WriteResult:
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    unchanged: int = 0
    errors: list[FieldError] = field(default_factory=list)
    last_outbox_id: int | None = None


_UPSERT_SQL = """
INSERT INTO participants_participant AS p (
    event_id, public_id, external_id, name, email, phone, organization, department, position,
    birth_date, region, status, token, metadata, import_job_id, email_status, email_attempts,
    email_last_error, email_message_id, created_at, updated_at
)
SELECT %(event_id)s, gen_random_uuid(), u.external_id, u.name, u.email, u.phone, u.organization,
       u.department, u.position, u.birth_date, u.region, 'registered', u.token, u.metadata,
       %(job_id)s, %(email_status)s, 0, '', '', %(now)s, %(now)s
-- Why one JSON document and not array parameters: psycopg adapts arrays in Python (~60 ms per
-- 2,000-row chunk), json.dumps is C, and Postgres parses the document faster than either.
FROM jsonb_to_recordset(%(rows)s::jsonb) AS u(
    external_id text, name text, email text, phone text, organization text, department text,
    position text, birth_date date, region text, token text, metadata jsonb
)
ON CONFLICT (event_id, lower(email)) DO UPDATE SET {assignments}, updated_at = EXCLUDED.updated_at
WHERE ({old}) IS DISTINCT FROM ({new})
RETURNING p.id, lower(p.email), p.public_id::text, p.external_id, p.status, (p.xmax = 0)
"""


def _merge_expressions() -> tuple[str, str, str]:
    # An empty cell never erases what is stored: organisers re-import partial sheets.
    merged = {"name": "EXCLUDED.name", "birth_date": "COALESCE(EXCLUDED.birth_date, p.birth_date)"}
    for name in UPDATABLE_TEXT_FIELDS:
        merged[name] = f"COALESCE(NULLIF(EXCLUDED.{name}, ''), p.{name})"
    merged["metadata"] = "p.metadata || EXCLUDED.metadata"
    assignments = ", ".join(f"{name} = {expression}" for name, expression in merged.items())
    old = ", ".join(f"p.{name}" for name in merged)
    new = ", ".join(merged.values())
    return assignments, old, new


_ASSIGNMENTS, _OLD, _NEW = _merge_expressions()
UPSERT_SQL = _UPSERT_SQL.format(assignments=_ASSIGNMENTS, old=_OLD, new=_NEW)

_OUTBOX_SQL = """
INSERT INTO integrations_outboxevent (event_id, organization_id, topic, payload, created_at, attempts, last_error)
SELECT %(event_id)s, %(organization_id)s, u.e->>'topic', u.e->'payload', %(now)s, 0, ''
FROM jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS u(e, n)
ORDER BY u.n
RETURNING id
"""


def merged_values(current: Participant, values: dict, metadata: dict) -> dict:
    """What an import row makes of an existing participant: the UPSERT_SQL rules, in Python."""
    merged = {"name": values["name"], "birth_date": values["birth_date"] or current.birth_date}
    merged.update({name: values[name] or getattr(current, name) for name in UPDATABLE_TEXT_FIELDS})
    merged["metadata"] = {**current.metadata, **metadata}
    return merged


def existing_by_email(event: Event, emails: list[str]) -> dict[str, Participant]:
    return {
        p.email.lower(): p
        for p in Participant.objects.annotate(email_key=Lower("email")).filter(event=event, email_key__in=emails)
    }


def external_id_conflicts(*, event: Event, rows: list[RowToWrite]) -> dict[int, FieldError]:
    """Rows whose external_id already belongs to another email (in the event or earlier in the rows)."""
    wanted = {r.values["external_id"] for r in rows if r.values["external_id"]}
    if not wanted:
        return {}
    owner = {
        external_id: email.lower()
        for external_id, email in Participant.objects.filter(event=event, external_id__in=wanted).values_list(
            "external_id", "email"
        )
    }
    conflicts = {}
    for row in rows:
        external_id = row.values["external_id"]
        if not external_id:
            continue
        current = owner.setdefault(external_id, row.values["email"])
        if current != row.values["email"]:
            conflicts[row.number] = FieldError(
                column="external_id",
                code="duplicate_external_id",
                message=f"External id already belongs to {current}.",
                value=external_id,
                row=row.number,
            )
    return conflicts


def write_participants(
    *, event: Event, rows: list[RowToWrite], import_job: ImportJob | None = None, send_tickets: bool = False
) -> WriteResult:
    """Create or update the rows (emails unique within `rows`) inside the caller's transaction.

    New participants get fresh tokens; existing ones get changed fields only; unchanged ones
    are not touched. One outbox row per created/updated participant is bulk-inserted.
    """
    result = WriteResult()
    conflicts = external_id_conflicts(event=event, rows=rows)
    result.errors.extend(conflicts.values())
    rows = [r for r in rows if r.number not in conflicts]
    if not rows:
        return result
    now = timezone.now()
    if connection.vendor != "postgresql":
        _write_portably(event=event, rows=rows, import_job=import_job, send_tickets=send_tickets, result=result, now=now)
        return result
    document = json.dumps(
        [
            {**row.values, "token": token, "metadata": row.metadata}
            for row, token in zip(rows, generate_tokens(len(rows)), strict=True)
        ],
        ensure_ascii=False,
        default=str,  # dates as ISO 8601
    )
    params = {
        "rows": document,
        "event_id": event.pk,
        "job_id": import_job.pk if import_job else None,
        "email_status": Participant.EmailStatus.PENDING if send_tickets else Participant.EmailStatus.UNSENT,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, params)
        returned = cursor.fetchall()
        order = {r.values["email"]: i for i, r in enumerate(rows)}
        returned.sort(key=lambda r: order.get(r[1], 0))
        events = []
        for pk, _email, public_id, external_id, status, inserted in returned:
            (result.created_ids if inserted else result.updated_ids).append(pk)
            events.append(
                {
                    "topic": Topic.PARTICIPANT_REGISTERED if inserted else Topic.PARTICIPANT_UPDATED,
                    "payload": {"id": public_id, "event": event.slug, "externalId": external_id, "status": status},
                }
            )
        result.unchanged = len(rows) - len(returned)
        if events:
            # Why one outbox row per participant, bulk-inserted, and not one per chunk: webhook
            # receivers get the same participant.registered shape from the API and the import,
            # and one INSERT .. SELECT per chunk costs a few ms (see bench/import).
            cursor.execute(
                _OUTBOX_SQL,
                {"event_id": event.pk, "organization_id": event.organization_id, "now": now, "events": json.dumps(events)},
            )
            result.last_outbox_id = max(r[0] for r in cursor.fetchall())
    if result.last_outbox_id is not None:
        last = result.last_outbox_id
        transaction.on_commit(lambda: outbox_committed.send(sender=OutboxEvent, outbox_id=last))
    return result


def _write_portably(
    *, event: Event, rows: list[RowToWrite], import_job: ImportJob | None, send_tickets: bool, result: WriteResult, now
) -> None:
    """The same contract with the ORM, for the embedded SQLite mode (`make run`): slower, and
    relying on SQLite's single writer instead of ON CONFLICT for races."""
    existing = existing_by_email(event, [r.values["email"] for r in rows])
    email_status = Participant.EmailStatus.PENDING if send_tickets else Participant.EmailStatus.UNSENT
    created, updated = [], []
    for row in rows:
        current = existing.get(row.values["email"])
        if current is None:
            created.append(
                Participant(event=event, import_job=import_job, email_status=email_status, metadata=row.metadata, **row.values)
            )
            continue
        merged = merged_values(current, row.values, row.metadata)
        if any(getattr(current, n) != v for n, v in merged.items()):
            for name, value in merged.items():
                setattr(current, name, value)
            current.updated_at = now
            updated.append(current)
    Participant.objects.bulk_create(created)
    if updated:
        Participant.objects.bulk_update(updated, ["name", "birth_date", "metadata", "updated_at", *UPDATABLE_TEXT_FIELDS])
    result.created_ids = [p.pk for p in created]
    result.updated_ids = [p.pk for p in updated]
    result.unchanged = len(rows) - len(created) - len(updated)
    outbox = OutboxEvent.objects.bulk_create(
        OutboxEvent(
            event_id=event.pk,
            organization_id=event.organization_id,
            topic=topic,
            payload={"id": str(p.public_id), "event": event.slug, "externalId": p.external_id, "status": p.status},
        )
        for topic, group in ((Topic.PARTICIPANT_REGISTERED, created), (Topic.PARTICIPANT_UPDATED, updated))
        for p in group
    )
    if outbox:
        last = max(o.pk for o in outbox)
        result.last_outbox_id = last
        transaction.on_commit(lambda: outbox_committed.send(sender=OutboxEvent, outbox_id=last))
