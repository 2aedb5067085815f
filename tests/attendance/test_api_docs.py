"""The OpenAPI document is written for tablet developers: every operation explained, every error
code listed with an example body, and the closed sets of values given as enums."""

import pytest

from attendance.services.rules import REFUSALS

pytestmark = pytest.mark.django_db

# Every refusal the rules can answer: one added to the rules and left out of the docs fails here.
REFUSAL_CODES = set(REFUSALS)
INTERNAL_WORDS = ("bench", "µs", "round trip", "PL/pgSQL", "DRF", "psycopg", "deep-cop")


@pytest.fixture
def document(client):
    return client.get("/api/schema/", headers={"Accept": "application/json"}).json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def example_codes(response) -> set[str]:
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    return {example["value"]["error"]["code"] for example in examples.values() if "error" in example.get("value", {})}


def test_every_operation_has_a_summary_and_an_integrator_facing_description(document):
    for name, operation in operations(document):
        assert operation.get("summary"), name
        assert len(operation.get("description", "")) > 40, name
        for word in INTERNAL_WORDS:
            assert word not in operation["description"], (name, word)


def test_every_error_response_lists_its_codes_with_example_bodies(document):
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                codes = example_codes(response)
                assert codes, (name, status)
                for code in codes:
                    assert f"`{code}`" in response["description"], (name, status, code)


def test_record_documents_every_refusal_code_under_its_status(document):
    responses = document["paths"]["/api/v1/attendance/record"]["post"]["responses"]
    by_status = {status: example_codes(response) for status, response in responses.items()}
    assert set().union(*by_status.values()) >= REFUSAL_CODES
    assert {"invalid_ticket", "outside_event_window", "participant_inactive", "gate_inactive", "invalid"} <= by_status["400"]
    assert {"authentication_scheme", "authentication_failed", "not_authenticated"} <= by_status["401"]
    assert {"gate_not_found", "participant_not_found"} <= by_status["404"]
    assert {"duplicate_scan", "already_checked_in", "idempotency_conflict"} <= by_status["409"]


def test_verify_and_batch_document_invalid_ticket(document):
    verify = document["paths"]["/api/v1/tokens/verify"]["post"]["responses"]
    assert "invalid_ticket" in example_codes(verify["400"])
    batch = document["paths"]["/api/v1/attendance/batch"]["post"]
    assert "invalid_ticket" in batch["description"]


def enum_of(document, ref_or_schema) -> list:
    schema = ref_or_schema
    if "allOf" in schema:
        schema = schema["allOf"][0]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema["enum"]


def test_closed_sets_are_enums(document):
    schemas = document["components"]["schemas"]
    scan = schemas["Scan"]["properties"]
    assert set(enum_of(document, scan["method"])) == {"qr_scan", "ble_auto", "manual", "qr", "ble"}
    assert set(enum_of(document, scan["direction"])) == {"entry", "exit"}
    record = schemas["ScanRecord"]["properties"]
    assert set(enum_of(document, record["method"])) == {"qr_scan", "ble_auto", "manual"}
    error_codes = set(enum_of(document, schemas["ErrorDetail"]["properties"]["code"]))
    assert REFUSAL_CODES | {"invalid", "idempotency_conflict", "authentication_scheme"} <= error_codes
    duplicate = schemas["BatchDuplicate"]["properties"]["error"]
    duplicate_error = document["components"]["schemas"][duplicate["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(enum_of(document, duplicate_error["code"])) == {"duplicate_scan", "already_checked_in"}
    assert set(enum_of(document, record["result"])) == {"accepted"}


def test_method_documents_its_aliases_and_what_is_stored(document):
    description = document["components"]["schemas"]["Scan"]["properties"]["method"]["description"]
    assert "qr" in description and "stored" in description
