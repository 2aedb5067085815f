"""Writes for gates and devices."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from events.errors import DomainError
from events.models import Event
from gates.api_keys import display_prefix, generate_api_key, hash_api_key
from gates.models import Device, Gate


class InvalidGate(DomainError):
    code = "invalid_gate"


def create_gate(
    *,
    event: Event,
    code: str,
    name: str = "",
    direction: str = Gate.Direction.ENTRY,
    capacity_per_minute: int | None = None,
    location: str = "",
) -> Gate:
    gate = Gate(
        event=event,
        code=code,
        name=name or code.replace("-", " ").title(),
        direction=direction,
        capacity_per_minute=capacity_per_minute or event.default_gate_capacity_per_minute,
        location=location,
    )
    if Gate.objects.filter(event=event, code=code).exists():
        raise InvalidGate(
            f"A gate with code {code!r} already exists in this event.",
            code="duplicate_gate_code",
            details={"code": ["duplicate"]},
        )
    try:
        gate.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise InvalidGate(f"Invalid gate: {', '.join(sorted(exc.message_dict))}.", details=exc.message_dict) from exc
    gate.save()
    return gate


def create_device(*, event: Event, name: str, gate: Gate | None = None, created_by=None) -> tuple[Device, str]:
    """Create a device and return it with its plaintext API key, which is not stored anywhere."""
    if gate is not None and gate.event_id != event.pk:
        raise InvalidGate("The gate belongs to another event.", details={"gate": ["not in this event"]})
    key = generate_api_key()
    device = Device.objects.create(
        event=event, gate=gate, name=name, key_prefix=display_prefix(key), key_hash=hash_api_key(key), created_by=created_by
    )
    return device, key


def revoke_device(*, device: Device) -> Device:
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(is_active=False, revoked_at=timezone.now())
    device.refresh_from_db()
    return device
