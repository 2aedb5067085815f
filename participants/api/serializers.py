"""Shapes of the participant API bodies (camelCase on the wire); content rules live in participants.validation."""

from rest_framework import serializers

from participants.models import Participant
from participants.services import MAX_BULK_ITEMS
from participants.tokens import format_token

# camelCase wire name -> participant field
WIRE_NAMES = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "organization": "organization",
    "department": "department",
    "position": "position",
    "birthDate": "birth_date",
    "region": "region",
    "externalId": "external_id",
}
FIELD_TO_WIRE = {value: key for key, value in WIRE_NAMES.items()}


class ParticipantInSerializer(serializers.Serializer):
    # Everything optional and free text here: the shared validators give the stable error
    # codes (name_required, invalid_email, ...), the same ones an import reports.
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=1000)
    email = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=100)
    organization = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    department = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    position = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    birthDate = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)  # noqa: N815
    region = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    externalId = serializers.CharField(required=False, allow_blank=True, max_length=1000)  # noqa: N815
    metadata = serializers.DictField(required=False)


def wire_to_fields(data: dict) -> dict:
    """Validated wire data -> register_participant keyword arguments."""
    fields = {WIRE_NAMES[key]: value for key, value in data.items() if key in WIRE_NAMES}
    fields["metadata"] = dict(data.get("metadata") or {})
    return fields


class BulkParticipantsInSerializer(serializers.Serializer):
    participants = ParticipantInSerializer(many=True, allow_empty=False, max_length=MAX_BULK_ITEMS)


def participant_out(participant: Participant) -> dict:
    return {
        "id": str(participant.public_id),
        "token": participant.token,
        "ticketCode": format_token(participant.token, participant.event.token_prefix),
        "name": participant.name,
        "email": participant.email,
        "phone": participant.phone,
        "organization": participant.organization,
        "department": participant.department,
        "position": participant.position,
        "birthDate": participant.birth_date.isoformat() if participant.birth_date else None,
        "region": participant.region,
        "externalId": participant.external_id,
        "status": participant.status,
        "metadata": participant.metadata,
    }


def wire_errors(details: dict) -> dict:
    return {FIELD_TO_WIRE.get(name, name): errors for name, errors in details.items()}
