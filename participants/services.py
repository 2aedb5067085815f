"""Writes for participants: one registration (API, admin) and bulk registration (bulk API)."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from events.errors import DomainError
from events.models import Event
from integrations.outbox import Topic, publish
from participants.models import Participant
from participants.upsert import RowToWrite, write_participants
from participants.validation import FieldError, ValidationContext, clean_participant

MAX_BULK_ITEMS = 1000


class InvalidParticipant(DomainError):
    code = "invalid"


class DuplicateEmail(DomainError):
    code = "duplicate_email"
    http_status = 409


def participant_payload(participant: Participant) -> dict:
    """What integrations receive about a participant: ids and status, no contact details."""
    return {
        "id": str(participant.public_id),
        "event": participant.event.slug,
        "externalId": participant.external_id,
        "status": participant.status,
    }


def errors_by_field(errors: list[FieldError]) -> dict[str, list[dict]]:
    details: dict[str, list[dict]] = {}
    for error in errors:
        details.setdefault(error.column, []).append({"code": error.code, "message": error.message})
    return details


def register_participant(*, event: Event, name: str, email: str, metadata: dict | None = None, **fields) -> Participant:
    """Create one participant with a fresh token.

    Raises InvalidParticipant (details: field -> [{code, message}]) or DuplicateEmail (the event
    already has the email, in any letter case).
    """
    cleaned = clean_participant({"name": name, "email": email, **fields}, context=ValidationContext.for_event(event))
    if cleaned.errors:
        details = errors_by_field(cleaned.errors)
        raise InvalidParticipant(f"Invalid participant: {', '.join(sorted(details))}.", details=details)
    participant = Participant(event=event, metadata=metadata or {}, **cleaned.values)
    try:
        with transaction.atomic():
            participant.save()
            publish(
                topic=Topic.PARTICIPANT_REGISTERED,
                event_id=event.pk,
                organization_id=event.organization_id,
                payload=participant_payload(participant),
            )
    except IntegrityError as exc:
        if Participant.objects.filter(event=event, email__iexact=participant.email).exists():
            raise DuplicateEmail(
                "A participant with this email is already registered.",
                details={"email": [{"code": "duplicate_email", "message": "Already registered for this event."}]},
            ) from exc
        if participant.external_id and Participant.objects.filter(event=event, external_id=participant.external_id).exists():
            raise DuplicateEmail(
                "A participant with this external id is already registered.",
                code="duplicate_external_id",
                details={"external_id": [{"code": "duplicate_external_id", "message": "Already used in this event."}]},
            ) from exc
        raise
    return participant


@dataclass
class BulkResult:
    created: list[tuple[int, Participant]] = field(default_factory=list)
    updated: list[tuple[int, Participant]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, FieldError]] = field(default_factory=list)


def register_participants(*, event: Event, items: list[dict]) -> BulkResult:
    """Create or update many participants at once, exactly as an import of the same rows would.

    Every item is validated with the import's validators; invalid ones are reported by index and
    skipped; a later item with an email seen earlier is a duplicate; the rest are written in one
    transaction (existing emails are updated, never created twice).
    """
    if len(items) > MAX_BULK_ITEMS:
        raise InvalidParticipant(f"At most {MAX_BULK_ITEMS} participants per request.", code="too_many_items")
    context = ValidationContext.for_event(event)
    result = BulkResult()
    to_write: list[RowToWrite] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        cleaned = clean_participant(item, context=context)
        if cleaned.errors:
            result.errors.extend((index, e) for e in cleaned.errors)
            continue
        email = cleaned.values["email"]
        if first_index.setdefault(email, index) != index:
            result.duplicates.append((index, email))
            continue
        to_write.append(RowToWrite(number=index, values=cleaned.values, metadata=item.get("metadata") or {}))
    with transaction.atomic():
        written = write_participants(event=event, rows=to_write)
    result.errors.extend((e.row, e) for e in written.errors)
    by_id = Participant.objects.select_related("event").in_bulk(written.created_ids + written.updated_ids)
    index_of = {row.values["email"]: row.number for row in to_write}
    for ids, bucket in ((written.created_ids, result.created), (written.updated_ids, result.updated)):
        bucket.extend((index_of[by_id[pk].email.lower()], by_id[pk]) for pk in ids)
    touched = {p.email.lower() for _, p in result.created + result.updated}
    failed = {e.row for _, e in result.errors}
    result.duplicates.extend(
        (row.number, row.values["email"]) for row in to_write if row.values["email"] not in touched and row.number not in failed
    )
    result.duplicates.sort()
    return result
