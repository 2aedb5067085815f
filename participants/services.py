"""Writes for participants."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from config.errors import DomainError
from events.models import Event
from integrations.outbox import Topic, publish
from participants.models import Participant


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


def register_participant(*, event: Event, name: str, email: str, **fields) -> Participant:
    """Create one participant with a fresh token; DuplicateEmail if the event already has the email."""
    participant = Participant(event=event, name=name.strip(), email=email.strip().lower(), **fields)
    try:
        participant.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise InvalidParticipant(
            f"Invalid participant: {', '.join(sorted(exc.message_dict))}.", details=exc.message_dict
        ) from exc
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
                "A participant with this email is already registered.", details={"email": ["duplicate"]}
            ) from exc
        raise
    return participant
