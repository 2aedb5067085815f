"""Writes for organizations and events: creation with signing keys, and the lifecycle."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from events.errors import DomainError
from events.models import Event, EventStatusChange, Membership, Organization
from events.signing import generate_keypair
from integrations.outbox import Topic, publish

Status = Event.Status

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.PUBLISHED}),
    Status.PUBLISHED: frozenset({Status.LIVE, Status.DRAFT}),
    Status.LIVE: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset({Status.ARCHIVED}),
    Status.ARCHIVED: frozenset(),
}


class IllegalStatusTransition(DomainError):
    code = "illegal_status_transition"
    http_status = 409


class InvalidEvent(DomainError):
    code = "invalid_event"


def get_or_create_organization(*, name: str) -> Organization:
    organization, _ = Organization.objects.get_or_create(name=name, defaults={"slug": slugify(name)[:100] or "org"})
    return organization


def add_member(*, organization: Organization, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


def create_event(
    *,
    organization: Organization,
    slug: str,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone_name: str = "Asia/Seoul",
    venue: str = "",
    status: str = Status.DRAFT,
    **settings_fields,
) -> Event:
    """Create an event with its own Ed25519 signing key pair.

    Raises InvalidEvent naming the field when a value is unacceptable; nothing is stored then.
    """
    if status not in Status.values:
        raise InvalidEvent(f"Unknown status {status!r}.", details={"status": [f"must be one of {', '.join(Status.values)}"]})
    private_key, public_key = generate_keypair()
    event = Event(
        organization=organization,
        slug=slug,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone_name,
        venue=venue,
        status=status,
        signing_private_key=private_key,
        signing_public_key=public_key,
        **settings_fields,
    )
    try:
        event.full_clean()
    except ValidationError as exc:
        fields = ", ".join(sorted(exc.message_dict))
        raise InvalidEvent(f"Invalid event: {fields}.", details=exc.message_dict) from exc
    event.save()
    return event


def change_event_status(*, event: Event, to_status: str, changed_by=None) -> Event:
    """Move an event along its lifecycle, recording who and when.

    Only draft → published → live → closed → archived and published → draft are allowed;
    any other move raises IllegalStatusTransition and changes nothing.
    """
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        from_status = locked.status
        if to_status not in ALLOWED_TRANSITIONS.get(from_status, frozenset()):
            raise IllegalStatusTransition(
                f"An event cannot move from {from_status} to {to_status}.",
                details={"from": from_status, "to": to_status, "allowed": sorted(ALLOWED_TRANSITIONS.get(from_status, ()))},
            )
        now = timezone.now()
        locked.status = to_status
        locked.status_changed_at = now
        locked.status_changed_by = changed_by
        locked.save(update_fields=["status", "status_changed_at", "status_changed_by", "updated_at"])
        EventStatusChange.objects.create(event=locked, from_status=from_status, to_status=to_status, changed_by=changed_by)
        publish(
            topic=Topic.EVENT_STATUS_CHANGED,
            event_id=locked.pk,
            organization_id=locked.organization_id,
            payload={"event": locked.slug, "from": from_status, "to": to_status, "changedAt": now.isoformat()},
        )
    event.refresh_from_db()
    return event


def ensure_signing_keys(*, event: Event) -> None:
    """Give an event being created elsewhere (the admin form) its key pair, once."""
    if not event.signing_public_key:
        event.signing_private_key, event.signing_public_key = generate_keypair()
