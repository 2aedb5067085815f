"""The OpenAPI document describes the gate API, and the live API keeps to it (schemathesis)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory

GATE_OPERATIONS = {
    ("POST", "/api/v1/attendance/record"),
    ("POST", "/api/v1/attendance/batch"),
    ("POST", "/api/v1/tokens/verify"),
    ("GET", "/api/v1/events/{slug}/gate-sync"),
    ("GET", "/api/v1/events/{slug}/stats"),
}
EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.django_db
def test_schema_documents_every_gate_operation_with_the_api_key_scheme(client):
    document = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations >= GATE_OPERATIONS
    assert document["components"]["securitySchemes"]["DeviceApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": document["components"]["securitySchemes"]["DeviceApiKey"]["description"],
    }
    for path, method in [("/api/v1/attendance/record", "post"), ("/api/v1/events/{slug}/gate-sync", "get")]:
        assert document["paths"][path][method]["security"] == [{"DeviceApiKey": []}]


@pytest.mark.django_db(transaction=True)
def test_live_gate_api_never_answers_5xx_nor_breaks_its_schema(live_server):
    event = EventFactory(slug="schema-event")
    device = DeviceFactory(event=event)
    GateFactory(event=event, code="main-entrance")
    ParticipantFactory.create_batch(3, event=event)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    headers = {"Authorization": f"Api-Key {device.plain_key}"}
    tested = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in GATE_OPERATIONS:
            continue
        tested.add((operation.method.upper(), operation.path))
        _exercise(operation, schemathesis.GenerationMode.POSITIVE, live_server.url, headers, event.slug)
        try:
            _exercise(operation, schemathesis.GenerationMode.NEGATIVE, live_server.url, headers, event.slug)
        except Unsatisfiable:
            # An operation with no body and no query (the stats snapshot) has nothing to break.
            assert operation.method.upper() == "GET" and not operation.query

    assert tested == GATE_OPERATIONS


def _exercise(operation, mode, base_url, headers, slug):
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=strategy)
    def run(case):
        if case.path_parameters and "slug" in case.path_parameters:
            # The device's own event, so the handler runs past the event check; a slug that is not
            # a slug never reaches a view (Django's URL resolver answers 404 before DRF).
            case.path_parameters["slug"] = slug
        response = case.call(base_url=base_url, headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()
