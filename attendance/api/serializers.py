"""Gate API bodies (camelCase, as gate-management and the user app speak them): shape only."""

import json
import threading

from django.utils import timezone
from rest_framework import serializers

from attendance.models import Scan
from attendance.services import MAX_BATCH_SIZE, ScanInput, check_batch_size, is_ticket_text
from attendance.services.rules import REFUSALS
from participants.models import Participant
from participants.tickets.qr import SIGNATURE_LENGTH, VERSION
from participants.tokens import TOKEN_LENGTH

MAX_JSON_DETAIL_BYTES = 4096
MAX_PRINTED_TOKEN_LENGTH = 80
TICKET_TEXT_LENGTH = len(VERSION) + 1 + TOKEN_LENGTH + 1 + SIGNATURE_LENGTH  # GH1:<token>:<signature>, 138


def _storable_text(value: str) -> str:
    # Postgres text cannot hold lone surrogates: refuse them here rather than fail on insert.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise serializers.ValidationError("Contains characters that are not valid Unicode text.") from exc
    return value


def _small_storable_object(value: dict) -> dict:
    encoded = json.dumps(value)
    if "\\u0000" in encoded:
        raise serializers.ValidationError("May not contain NUL characters.")
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise serializers.ValidationError("Contains characters that are not valid Unicode text.") from exc
    if size > MAX_JSON_DETAIL_BYTES:
        raise serializers.ValidationError(f"At most {MAX_JSON_DETAIL_BYTES} bytes of JSON.")
    return value


class TextField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(_storable_text)
        super().__init__(**kwargs)


class TokenTextField(TextField):
    """A ticket token as printed or typed (at most 80 characters), or the QR code's whole text."""

    default_error_messages = {
        "not_a_token": f"Ensure this field has no more than {MAX_PRINTED_TOKEN_LENGTH} characters "
        f"(a printed token), or is the text of the ticket's QR code ({VERSION}:…, {TICKET_TEXT_LENGTH} characters)."
    }

    def __init__(self, **kwargs):
        super().__init__(max_length=TICKET_TEXT_LENGTH, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > MAX_PRINTED_TOKEN_LENGTH and not is_ticket_text(value):
            self.fail("not_a_token")
        return value


TOKEN_HELP = (
    f"The ticket: its token as printed (`PREFIX-ABCDE-…`, any case, dashes optional) or bare, or the whole "
    f"text read from its QR code (`{VERSION}:<token>:<signature>`). QR text is checked against the event's "
    "signing key; an altered, forged or other event's ticket is refused with `invalid_ticket`."
)


# The short names the demo data and some tablet apps send; stored and answered as the canonical name.
METHOD_ALIASES = {"qr": Scan.Method.QR_SCAN, "ble": Scan.Method.BLE_AUTO}
METHOD_INPUT_CHOICES = [
    *Scan.Method.choices,
    *(
        (alias, f"{canonical.label}: alias of {canonical.value}, stored as {canonical.value}")
        for alias, canonical in METHOD_ALIASES.items()
    ),
]


class MethodField(serializers.ChoiceField):
    """Scan.Method's values, and their aliases read as the canonical value."""

    def __init__(self, **kwargs):
        super().__init__(choices=METHOD_INPUT_CHOICES, **kwargs)
        # The lookup ChoiceField does anyway answers the canonical value: aliases cost nothing more.
        self.choice_strings_to_values.update({alias: canonical.value for alias, canonical in METHOD_ALIASES.items()})


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string: DRF alone would also read the integer 12345 as a UUID."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset: a device's local time without one is ambiguous, so it is refused."""

    default_error_messages = {"naive": "Must include a time zone offset (e.g. 2026-05-01T09:00:00+09:00)."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class ScanSerializer(serializers.Serializer):
    participantId = StrictUUIDField(required=False, help_text="The participant's public id; or send `token`.")
    token = TokenTextField(required=False, help_text=TOKEN_HELP)
    gateId = TextField(max_length=64, help_text="The gate's code, e.g. `main-entrance`.")
    timestamp = AwareDateTimeField(help_text="Device time of the scan, with its offset.")
    method = MethodField(
        help_text="How the participant was identified. `qr` and `ble` are accepted as aliases of `qr_scan` and "
        "`ble_auto`; the canonical name is what is stored and answered."
    )
    direction = serializers.ChoiceField(
        choices=Scan.Direction.choices, required=False, help_text="Defaults to the gate's direction."
    )
    location = serializers.DictField(required=False, validators=[_small_storable_object])
    deviceInfo = serializers.DictField(required=False, validators=[_small_storable_object])
    scanId = StrictUUIDField(required=False, help_text="Client idempotency key; a replay answers the same.")

    def validate(self, attrs):
        if "participantId" not in attrs and "token" not in attrs:
            raise serializers.ValidationError({"participantId": ["Send participantId or token."]})
        return attrs

    def to_scan_input(self) -> ScanInput:
        return self.scan_input(self.validated_data)

    @staticmethod
    def scan_input(data: dict) -> ScanInput:
        return ScanInput(
            gate_code=data["gateId"],
            scanned_at=data["timestamp"],
            method=data["method"],
            participant_id=data.get("participantId"),
            token=data.get("token"),
            scan_id=data.get("scanId"),
            direction=data.get("direction"),
            location=data.get("location"),
            device_info=data.get("deviceInfo"),
        )


class BatchScanSerializer(ScanSerializer):
    scanId = StrictUUIDField(help_text="Required in a batch: it makes replaying the batch safe.")


class BatchSerializer(serializers.Serializer):
    """Only the envelope: each scan is validated on its own so one bad scan fails alone."""

    scans = serializers.ListField(child=serializers.JSONField(), allow_empty=True)

    def validate_scans(self, value):
        # Refused before any per-scan work, with its own code.
        check_batch_size(len(value))
        return value


class BatchRequestSerializer(serializers.Serializer):
    """The documented request (each item as BatchScanSerializer); parsing uses BatchSerializer."""

    scans = BatchScanSerializer(many=True, max_length=MAX_BATCH_SIZE)


class TokenVerifySerializer(serializers.Serializer):
    token = TokenTextField(help_text=TOKEN_HELP)


# --- answers (documentation for the OpenAPI schema) -------------------------------------------


# Every stable error code the gate API answers, with what it means (the schema's ErrorCodeEnum).
ERROR_CODES = {
    **{code: message for code, (_status, _result, message) in REFUSALS.items()},
    "invalid": "The body or query is invalid; `details` names each field with its messages.",
    "malformed_json": "The body is not JSON.",
    "idempotency_conflict": "This scanId was already used for a different scan.",
    "batch_too_large": "More than 1000 scans in one batch.",
    "invalid_cursor": "The gate-sync cursor is not one this server issued.",
    "payload_too_large": "The body is over the size limit.",
    "not_authenticated": "No device key was sent.",
    "authentication_failed": "The device key is unknown or revoked.",
    "authentication_scheme": "The device key was sent without the `Api-Key` scheme.",
    "permission_denied": "The device key belongs to another event.",
    "not_found": "No such event or resource.",
    "method_not_allowed": "This HTTP method is not supported here.",
    "not_acceptable": "The Accept header asks for something other than JSON.",
    "unsupported_media_type": "The body is not sent as application/json.",
    "throttled": "Too many requests.",
    "error": "Any other error.",
}
ERROR_CODE_CHOICES = list(ERROR_CODES.items())
DUPLICATE_CODE_CHOICES = [(code, message) for code, (status, _, message) in REFUSALS.items() if status == 409]
REFUSED_RESULT_CHOICES = [(Scan.Result.DUPLICATE.value, Scan.Result.DUPLICATE.label)]


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODE_CHOICES, help_text="Stable: switch on it.")
    message = serializers.CharField(help_text="For people; may change.")
    details = serializers.DictField(help_text="Per code: the invalid fields, or a refused scan's `scanId` and `result`.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ScanParticipantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Participant.Status.choices)


class ScanRecordSerializer(serializers.Serializer):
    scanId = serializers.UUIDField()
    result = serializers.ChoiceField(choices=[(Scan.Result.ACCEPTED.value, Scan.Result.ACCEPTED.label)])
    direction = serializers.ChoiceField(choices=Scan.Direction.choices, help_text="As recorded (the gate's default if not sent).")
    method = serializers.ChoiceField(choices=Scan.Method.choices, help_text="The canonical name: `qr` is answered as `qr_scan`.")
    gateId = serializers.CharField()
    timestamp = serializers.DateTimeField(help_text="The scan's device time as sent.")
    participant = ScanParticipantSerializer()


class BatchFailureSerializer(serializers.Serializer):
    scanId = serializers.UUIDField(allow_null=True)
    index = serializers.IntegerField(required=False, help_text="Position in the request, for scans without a valid scanId.")
    error = ErrorDetailSerializer()


class DuplicateDetailsSerializer(serializers.Serializer):
    scanId = serializers.UUIDField()
    result = serializers.ChoiceField(choices=REFUSED_RESULT_CHOICES)


class DuplicateErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=DUPLICATE_CODE_CHOICES)
    message = serializers.CharField()
    details = DuplicateDetailsSerializer()


class BatchDuplicateSerializer(serializers.Serializer):
    scanId = serializers.UUIDField()
    error = DuplicateErrorSerializer()


class BatchResultSerializer(serializers.Serializer):
    successful = ScanRecordSerializer(many=True, help_text="Accepted scans: the record endpoint's 201 answer for each.")
    duplicates = BatchDuplicateSerializer(many=True, help_text="Refused as duplicates (stored with result `duplicate`).")
    failed = BatchFailureSerializer(many=True, help_text="Every other refusal (stored), invalid items and reused scanIds.")


class VerifiedParticipantSerializer(ScanParticipantSerializer):
    checkedIn = serializers.BooleanField()


class TokenVerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    participant = VerifiedParticipantSerializer()


class SyncParticipantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    token = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Participant.Status.choices)


class SyncGateSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The gate's code.")
    name = serializers.CharField()
    # A plain string (entry, exit or both) so its enum does not collide with a scan's direction.
    direction = serializers.CharField(help_text="entry, exit or both")
    isActive = serializers.BooleanField()


class GateSyncSerializer(serializers.Serializer):
    event = serializers.CharField()
    publicKey = serializers.CharField(help_text="The event's Ed25519 public key, base64url without padding.")
    participants = SyncParticipantSerializer(many=True)
    gates = SyncGateSerializer(many=True)
    nextCursor = serializers.CharField(help_text="Send it back as ?cursor= to get what changed after this page.")
    hasMore = serializers.BooleanField()


_validators = threading.local()


def _scan_validator() -> "ScanSerializer":
    # One instance per thread: its fields are built (deep-copied) once, and validation keeps
    # no state on the instance (what ListSerializer relies on for its child).
    validator = getattr(_validators, "scan", None)
    if validator is None:
        validator = _validators.scan = ScanSerializer()
    return validator


def parse_scan(data) -> ScanInput:
    """The body of a single record request as a ScanInput; raises ValidationError (400 invalid).

    Validated by one shared ScanSerializer (validation keeps no state on the instance): a new
    serializer per request deep-copies its fields, a measurable share of a check-in.
    """
    return ScanSerializer.scan_input(_scan_validator().run_validation(data))


def parse_batch_items(items: list) -> tuple[list[ScanInput], list[dict]]:
    """Each batch item validated alone: (valid scans, failures in the batch's `failed` shape).

    One serializer instance validates every item (what ListSerializer does): building a
    serializer per item deep-copies its fields each time, which dominated a 1000-scan batch.
    """
    validator = BatchScanSerializer()
    scans, invalid = [], []
    for index, item in enumerate(items):
        try:
            scans.append(validator.scan_input(validator.run_validation(item)))
        except serializers.ValidationError as exc:
            invalid.append(invalid_item(index, item, exc.detail))
    return scans, invalid


def invalid_item(index: int, item, errors: dict) -> dict:
    """A batch item that failed validation, in the shape of the batch's `failed` list."""
    scan_id = item.get("scanId") if isinstance(item, dict) and "scanId" not in errors else None
    if isinstance(errors, list):
        errors = {"non_field_errors": errors}
    return {
        "scanId": str(scan_id) if scan_id else None,
        "index": index,
        "error": {"code": "invalid", "message": "Invalid input: " + ", ".join(sorted(errors)), "details": errors},
    }
