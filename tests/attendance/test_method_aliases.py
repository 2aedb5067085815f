"""`method` also takes the short names qr, ble and manual; what is stored and answered is canonical."""

import pytest

from attendance.models import Scan
from tests.attendance.scan_bodies import scan_body

RECORD = "/api/v1/attendance/record"
BATCH = "/api/v1/attendance/batch"
pytestmark = pytest.mark.django_db

ALIASES = [("qr", "qr_scan"), ("ble", "ble_auto"), ("manual", "manual")]


@pytest.mark.parametrize(("sent", "canonical"), ALIASES)
def test_record_stores_and_answers_the_canonical_method(api, participant, gate, sent, canonical):
    body = scan_body(participant, gate, method=sent)
    response = api.post(RECORD, body)
    assert response.status_code == 201, response.content
    assert response.json()["method"] == canonical
    assert Scan.objects.get(scan_id=body["scanId"]).method == canonical


@pytest.mark.parametrize(("sent", "canonical"), ALIASES)
def test_batch_stores_and_answers_the_canonical_method(api, participant, gate, sent, canonical):
    body = scan_body(participant, gate, method=sent)
    answer = api.post(BATCH, {"scans": [body]}).json()
    assert [s["method"] for s in answer["successful"]] == [canonical], answer
    assert Scan.objects.get(scan_id=body["scanId"]).method == canonical


def test_a_replay_with_the_alias_of_the_same_method_is_the_same_scan(api, participant, gate):
    body = scan_body(participant, gate, method="qr")
    first = api.post(RECORD, body)
    again = api.post(RECORD, {**body, "method": "qr_scan"})
    assert (again.status_code, again.json()) == (first.status_code, first.json())


@pytest.mark.parametrize("method", ["QR", "bluetooth", "qr_scan ", ""])
def test_an_unknown_method_is_still_invalid_and_named(api, participant, gate, method):
    response = api.post(RECORD, scan_body(participant, gate, method=method))
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert "method" in response.json()["error"]["details"]
    assert not Scan.objects.exists()
