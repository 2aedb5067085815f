"""The gate API's documentation for tablet developers: error codes, their statuses and example bodies."""

import uuid

from drf_spectacular.utils import OpenApiExample

from attendance.api.serializers import ErrorSerializer
from attendance.services.rules import REFUSALS
from events import api_errors
from events.api_errors import INVALID, MALFORMED_JSON, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, error_example
from gates.authentication import HOW_TO_SEND

__all__ = ["INVALID", "MALFORMED_JSON", "error_response"]

_EXAMPLE_SCAN_ID = str(uuid.UUID("5f0c6d1e-8a4b-4c2e-9d3f-1a2b3c4d5e6f"))


def error_response(lead: str, *examples: OpenApiExample):
    """A gate API error status (body: ErrorSerializer) with its codes and example bodies."""
    return api_errors.error_response(lead, *examples, schema=ErrorSerializer)


def refusal_example(code: str):
    """A refused scan's body exactly as stored and answered (a replayed scanId gets it again)."""
    _status, result, message = REFUSALS[code]
    return error_example(code, message, {"scanId": _EXAMPLE_SCAN_ID, "result": result.value})


def refusals_with_status(status: int) -> list:
    return [refusal_example(code) for code, (answered, _, _) in REFUSALS.items() if answered == status]


NOT_AUTHENTICATED = error_example("not_authenticated", f"No device key was sent. {HOW_TO_SEND}")
AUTHENTICATION_FAILED = error_example("authentication_failed", "Invalid API key.")
AUTHENTICATION_SCHEME = error_example(
    "authentication_scheme", f'The device key was sent without the "Api-Key" scheme. {HOW_TO_SEND}'
)
OTHER_EVENT = error_example("permission_denied", "This device key belongs to another event.")
IDEMPOTENCY_CONFLICT = error_example(
    "idempotency_conflict", "This scanId was already used for a different scan.", {"scanId": _EXAMPLE_SCAN_ID, "field": "scanId"}
)
BATCH_TOO_LARGE = error_example(
    "batch_too_large", "A batch holds at most 1000 scans; this one has 1200.", {"scans": ["at most 1000"]}
)
INVALID_TICKET = error_example("invalid_ticket", "The ticket's signature does not match this event.", {"reason": "signature"})
TOKEN_NOT_FOUND = error_example("participant_not_found", "No participant with this token in this event.", {"token": ["unknown"]})
INVALID_CURSOR = error_example("invalid_cursor", "The cursor is not one this server issued.", {"cursor": ["invalid"]})

UNAUTHORIZED = error_response(
    "No usable device key. Send it as `Authorization: Api-Key <key>` or `X-Api-Key: <key>`.",
    NOT_AUTHENTICATED,
    AUTHENTICATION_FAILED,
    AUTHENTICATION_SCHEME,
)
TOO_LARGE = error_response("The body is over the server's size limit (1 MiB by default).", PAYLOAD_TOO_LARGE)
WRONG_MEDIA_TYPE = error_response("The body must be JSON (`Content-Type: application/json`).", UNSUPPORTED_MEDIA_TYPE)
FOREIGN_EVENT = error_response("The device key belongs to another event than the one in the path.", OTHER_EVENT)


def record_responses() -> dict:
    """Every status the record endpoint answers besides 201, each with its codes and bodies."""
    return {
        400: error_response(
            "The body is invalid (`invalid` names the fields; nothing is stored), or the scan was refused by a rule "
            "(stored as a refused scan; `details` has its `scanId` and stored `result`).",
            INVALID,
            MALFORMED_JSON,
            *refusals_with_status(400),
        ),
        401: UNAUTHORIZED,
        403: error_response("Refused and stored: the device is bound to another gate.", *refusals_with_status(403)),
        404: error_response("Refused and stored: no such gate or participant in the device's event.", *refusals_with_status(404)),
        409: error_response(
            "Refused as a duplicate and stored (result `duplicate`), or the scanId was already used for a "
            "different scan (`idempotency_conflict`, nothing stored).",
            *refusals_with_status(409),
            IDEMPOTENCY_CONFLICT,
        ),
        413: TOO_LARGE,
        415: WRONG_MEDIA_TYPE,
    }


RECORD_DESCRIPTION = f"""\
Records one scan of a participant at a gate and answers whether they may pass.

Identify the participant with `participantId` or `token` (or both, which must agree). `token` takes
the ticket as printed (`PREFIX-ABCDE-…`, any case, dashes optional), the bare token, or the whole text
read from the ticket's QR code (`GH1:<token>:<signature>`); QR text is checked against the event's
signing key, and an altered, forged or other event's ticket is refused with `invalid_ticket`.

`201` means accepted: let the participant through. Every refusal is stored too (the event's audit
trail) and answered with its stable `code`; the rules are checked in this order:
{", ".join(f"`{code}`" for code in REFUSALS)}.

Send a `scanId` (a UUID made on the device) and resend freely: a scanId already stored answers exactly
what it answered the first time — accepted or refused — and stores nothing new. The same scanId with a
different body is `409 idempotency_conflict`.

`method` accepts `qr_scan`, `ble_auto`, `manual` and the aliases `qr` and `ble`; the canonical name is
stored and answered. Without `direction` the gate decides (an entry gate records entries; a two-way gate
records an exit when the participant is inside). The device key implies the event."""

BATCH_DESCRIPTION = """\
Records an offline device's backlog — up to 1000 scans, each with its required `scanId` — in device-time
order (`timestamp`), each with its own verdict under the same rules as the single record endpoint.

The answer sorts the scans: `successful` (accepted, the record endpoint's 201 body), `duplicates`
(`duplicate_scan`, `already_checked_in`) and `failed` (any other refusal, e.g. `invalid_ticket`,
`participant_not_found`, `outside_event_window`; an invalid item as `invalid` with its `index`; a
reused scanId as `idempotency_conflict`). Refused scans are stored like accepted ones.

Replaying a batch (after a timeout, say) changes nothing and answers the same, so a device can resend
until it gets an answer. `token` accepts the same forms as the record endpoint, QR text included."""

VERIFY_DESCRIPTION = """\
Says whose ticket this is and whether they are in good standing, without recording a scan: for a gate
operator's "check" button or a help desk.

`token` takes the printed or bare token, or the whole QR text (`GH1:<token>:<signature>`), which is
checked against the event's signing key: an altered, forged or other event's ticket is
`400 invalid_ticket` (the same code and status as on the record endpoint). A token nobody in the
device's event holds is `404 participant_not_found`. `valid` is false for a cancelled or blocked
participant; `checkedIn` says whether they have an accepted entry."""

GATE_SYNC_DESCRIPTION = """\
Everything a tablet needs to check tickets offline: the event's participants (`id`, `token`, `name`,
`status`), its gates and its Ed25519 public key (to verify QR tickets without the server; see the
ticket format in the project's docs/tickets.md).

Without `cursor` the first page of a full sync; then send `nextCursor` back as `cursor` while `hasMore`
is true. Keep the last `nextCursor` and ask again later with it to get only what changed since. A
cursor this server did not issue is `400 invalid_cursor`."""

BATCH_EXAMPLE = OpenApiExample(
    "verdicts",
    summary="One accepted, one duplicate, one forged ticket",
    response_only=True,
    status_codes=["200"],
    value={
        "successful": [
            {
                "scanId": "0b6c2f4e-3d1a-4f5b-8c7d-9e0f1a2b3c4d",
                "result": "accepted",
                "method": "qr_scan",
                "gateId": "main-entrance",
                "timestamp": "2026-05-01T09:00:00+09:00",
                "direction": "entry",
                "participant": {"id": "3f2b8c1d-5e6f-4a7b-9c0d-1e2f3a4b5c6d", "name": "Kim Minsu", "status": "registered"},
            }
        ],
        "duplicates": [
            {
                "scanId": "1c7d3e5f-4a2b-4c6d-9e8f-0a1b2c3d4e5f",
                "error": {
                    "code": "duplicate_scan",
                    "message": REFUSALS["duplicate_scan"][2],
                    "details": {"scanId": "1c7d3e5f-4a2b-4c6d-9e8f-0a1b2c3d4e5f", "result": "duplicate"},
                },
            }
        ],
        "failed": [
            {
                "scanId": _EXAMPLE_SCAN_ID,
                "error": {
                    "code": "invalid_ticket",
                    "message": REFUSALS["invalid_ticket"][2],
                    "details": {"scanId": _EXAMPLE_SCAN_ID, "result": "rejected"},
                },
            }
        ],
    },
)
