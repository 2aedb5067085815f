"""Check-in verdicts to HTTP, in one place: a ScanOutcome as the record endpoint's response, and
a batch's ScanOutcomes as its `successful` / `duplicates` / `failed` lists.

The services return every verdict as data with the status and body the device is answered
(stored with the scan, so a replay answers the same); this module only shapes them. Errors that
are not verdicts (authentication, an invalid body, a batch too large) are exceptions, translated
by events.api_errors.exception_handler.
"""

from django.http import HttpResponse, JsonResponse

from attendance.services import ScanOutcome


def verdict_response(outcome: ScanOutcome) -> HttpResponse:
    """The record endpoint's answer: the verdict's status and body.

    A plain Django response, returned as it is by both of RecordScanView's paths (DRF passes an
    HttpResponse through unrendered). Postgres's stored JSON text goes out without a decode and
    re-encode.
    """
    if outcome.body_json is not None:
        return HttpResponse(outcome.body_json, content_type="application/json", status=outcome.status)
    return JsonResponse(outcome.body, status=outcome.status)


def batch_body(outcomes: list[ScanOutcome], *, invalid: list[dict]) -> dict:
    """The batch endpoint's answer: each verdict in its list, in the order decided; `invalid`
    (items that failed validation and were never recorded) first in `failed`."""
    successful, duplicates, failed = [], [], list(invalid)
    for outcome in outcomes:
        if outcome.is_accepted:
            successful.append(outcome.body)
        else:
            refused = {"scanId": str(outcome.scan_id), "error": outcome.body["error"]}
            (duplicates if outcome.is_duplicate else failed).append(refused)
    return {"successful": successful, "duplicates": duplicates, "failed": failed}
