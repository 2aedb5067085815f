"""Bad input to the gate API: a 4xx in the error shape with a stable code, never a 500."""

import json

import pytest

from attendance.models import Scan
from tests.attendance.scan_bodies import scan_body

RECORD = "/api/v1/attendance/record"
pytestmark = pytest.mark.django_db

HOSTILE = ["'; DROP TABLE attendance_scan; --", "<script>alert(1)</script>", "\u0000", "x" * 5000, "%s%s%s", "🙂" * 100]


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert isinstance(error["details"], dict)


def test_malformed_json_is_malformed_json(client, device):
    response = client.post(
        RECORD, "{not json", content_type="application/json", headers={"Authorization": f"Api-Key {device.plain_key}"}
    )
    assert_error_shape(response, 400, "malformed_json")


def test_a_json_array_instead_of_an_object_is_invalid(api):
    assert_error_shape(api.post(RECORD, [1, 2, 3]), 400, "invalid")


@pytest.mark.parametrize("field", ["gateId", "timestamp", "method"])
def test_missing_field_is_invalid_and_named(api, participant, gate, field):
    body = scan_body(participant, gate)
    del body[field]
    response = api.post(RECORD, body)
    assert_error_shape(response, 400, "invalid")
    assert field in response.json()["error"]["details"]
    assert not Scan.objects.exists()


def test_neither_participant_id_nor_token_is_invalid(api, participant, gate):
    body = scan_body(participant, gate)
    del body["participantId"]
    assert_error_shape(api.post(RECORD, body), 400, "invalid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("participantId", 12345),
        ("participantId", "not-a-uuid"),
        ("timestamp", 1700000000),
        ("timestamp", "yesterday"),
        ("method", "telepathy"),
        ("direction", "sideways"),
        ("scanId", "not-a-uuid"),
        ("location", "Seoul"),
        ("deviceInfo", [1, 2]),
        ("gateId", {"code": "main-entrance"}),
    ],
)
def test_wrong_types_and_unknown_values_are_invalid(api, participant, gate, field, value):
    body = scan_body(participant, gate)
    body[field] = value
    response = api.post(RECORD, body)
    assert_error_shape(response, 400, "invalid")
    assert field in response.json()["error"]["details"]
    assert not Scan.objects.exists()


@pytest.mark.parametrize("field", ["token", "gateId", "participantId", "timestamp", "method", "scanId", "direction"])
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_any_string_field_is_a_clean_4xx(api, participant, gate, field, text):
    body = scan_body(participant, gate)
    body[field] = text
    response = api.post(RECORD, body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]["code"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_location_and_device_info_is_stored_verbatim_or_refused(api, participant, gate, text):
    body = scan_body(participant, gate, location={"note": text}, deviceInfo={text[:50]: text})
    response = api.post(RECORD, body)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert Scan.objects.get(scan_id=body["scanId"]).location == {"note": text}


def test_body_over_one_megabyte_is_413(api, participant, gate):
    body = scan_body(participant, gate, deviceInfo={"padding": "x" * (1024 * 1024)})
    response = api.post(RECORD, body)
    assert_error_shape(response, 413, "payload_too_large")
    assert not Scan.objects.exists()


def test_body_over_one_megabyte_is_413_on_batch_too(api):
    response = api.post("/api/v1/attendance/batch", json.dumps({"scans": ["x" * (1024 * 1024)]}))
    assert_error_shape(response, 413, "payload_too_large")


# RecordScanView answers well-formed scans without DRF's request cycle and hands everything
# else to DRF: these pin down that the two read a body the same way.


def test_nan_or_infinity_in_a_body_is_malformed_json_not_a_500(api, participant, gate):
    for constant in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(scan_body(participant, gate))[:-1] + f', "location": {{"lat": {constant}}}}}'
        response = api.post_raw(RECORD, text.encode())
        assert_error_shape(response, 400, "malformed_json")
    assert not Scan.objects.exists()


def test_a_body_that_is_not_utf8_is_malformed_json(api, participant, gate):
    response = api.post_raw(RECORD, json.dumps(scan_body(participant, gate)).encode("utf-16"))
    assert_error_shape(response, 400, "malformed_json")
    assert not Scan.objects.exists()


def test_another_media_type_is_415(api, participant, gate):
    response = api.post_raw(RECORD, json.dumps(scan_body(participant, gate)).encode(), content_type="text/plain")
    assert_error_shape(response, 415, "unsupported_media_type")
    assert not Scan.objects.exists()


def test_a_refused_scan_without_scan_id_is_stored_once(api, participant, gate):
    body = {**scan_body(participant, gate), "gateId": "no-such-gate"}
    del body["scanId"]
    response = api.post(RECORD, body)
    assert_error_shape(response, 404, "gate_not_found")
    assert Scan.objects.filter(reason="gate_not_found").count() == 1


def test_missing_or_revoked_key_is_401_with_the_challenge(client, device, participant, gate):
    body = json.dumps(scan_body(participant, gate))
    response = client.post(RECORD, body, content_type="application/json")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"
    response = client.post(RECORD, body, content_type="application/json", headers={"Authorization": "Api-Key gh_wrong"})
    assert_error_shape(response, 401, "authentication_failed")
    assert not Scan.objects.exists()
