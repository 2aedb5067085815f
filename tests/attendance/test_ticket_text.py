"""The QR code's text (GH1:<token>:<signature>) is accepted wherever a token is: record, batch, verify.

Its signature is checked against the device's event's public key; a forged or altered payload
and another event's ticket are refused with `invalid_ticket` — and, for record and batch,
stored as refused scans like every other refusal.
"""

import pytest

from attendance.models import Scan
from integrations.outbox import OutboxEvent
from participants.tickets.qr import signed_qr_text, ticket_qr_text
from participants.tokens import format_token, generate_token
from tests.attendance.scan_bodies import scan_body
from tests.factories import ParticipantFactory

RECORD = "/api/v1/attendance/record"
BATCH = "/api/v1/attendance/batch"
VERIFY = "/api/v1/tokens/verify"
pytestmark = pytest.mark.django_db


def forged(payload: str) -> str:
    """The payload with one character of its signature changed (still well-formed)."""
    position = len(payload) - 40
    return payload[:position] + ("A" if payload[position] != "A" else "B") + payload[position + 1 :]


def altered_token(payload: str) -> str:
    """The payload with one character of its token changed: the signature no longer matches."""
    position = len("GH1:") + 3
    return payload[:position] + ("0" if payload[position] != "0" else "1") + payload[position + 1 :]


def token_body(participant, gate, token, **extra):
    body = scan_body(participant, gate, **extra)
    del body["participantId"]
    body["token"] = token
    return body


@pytest.fixture
def foreign_ticket(db):
    """A valid ticket of another event's participant."""
    return ticket_qr_text(ParticipantFactory())


# --- record -------------------------------------------------------------------------------


def test_record_accepts_the_qr_codes_text(api, participant, gate):
    payload = ticket_qr_text(participant)
    assert len(payload) == 138
    body = token_body(participant, gate, payload)
    response = api.post(RECORD, body)
    assert response.status_code == 201, response.content
    assert response.json()["participant"]["id"] == str(participant.public_id)
    scan = Scan.objects.get(scan_id=body["scanId"])
    assert (scan.result, scan.participant_id) == ("accepted", participant.pk)


@pytest.mark.parametrize("tamper", ["forged_signature", "altered_token", "another_events_ticket"])
def test_record_refuses_a_bad_ticket_with_invalid_ticket_and_stores_it(api, participant, gate, foreign_ticket, tamper):
    payload = {
        "forged_signature": forged(ticket_qr_text(participant)),
        "altered_token": altered_token(ticket_qr_text(participant)),
        "another_events_ticket": foreign_ticket,
    }[tamper]
    body = token_body(participant, gate, payload)
    response = api.post(RECORD, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_ticket"
    scan = Scan.objects.get(scan_id=body["scanId"])
    # An unverified ticket names nobody: the refusal is stored against no participant.
    assert (scan.result, scan.reason, scan.participant_id, scan.gate_id) == ("rejected", "invalid_ticket", None, gate.pk)
    assert scan.response_body == response.json()
    assert not OutboxEvent.objects.exists()


def test_record_replay_of_a_refused_ticket_answers_the_same_and_stores_once(api, participant, gate):
    body = token_body(participant, gate, forged(ticket_qr_text(participant)))
    first = api.post(RECORD, body)
    again = api.post(RECORD, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (400, first.json())
    assert Scan.objects.filter(scan_id=body["scanId"]).count() == 1


def test_a_text_that_starts_like_a_ticket_but_is_none_is_invalid_ticket(api, participant, gate):
    body = token_body(participant, gate, "GH1:not-a-ticket")
    response = api.post(RECORD, body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_ticket")
    assert Scan.objects.get(scan_id=body["scanId"]).reason == "invalid_ticket"


def test_a_genuine_ticket_of_nobody_in_the_event_is_participant_not_found(api, event, participant, gate):
    body = token_body(participant, gate, signed_qr_text(token=generate_token(), event=event))
    response = api.post(RECORD, body)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "participant_not_found")


def test_a_ticket_is_checked_after_the_gate(api, participant):
    from tests.factories import GateFactory

    body = token_body(participant, GateFactory.build(code="nowhere"), forged(ticket_qr_text(participant)))
    assert api.post(RECORD, body).json()["error"]["code"] == "gate_not_found"


@pytest.mark.parametrize("form", ["bare", "printed", "printed_lower"])
def test_record_still_accepts_bare_and_printed_tokens(api, participant, gate, form):
    token = {
        "bare": participant.token,
        "printed": format_token(participant.token, "TCF26"),
        "printed_lower": format_token(participant.token, "TCF26").lower(),
    }[form]
    response = api.post(RECORD, token_body(participant, gate, token))
    assert response.status_code == 201, response.content


def test_a_long_text_that_is_not_a_ticket_is_still_invalid_and_named(api, participant, gate):
    response = api.post(RECORD, token_body(participant, gate, "X" * 100))
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert "token" in response.json()["error"]["details"]
    assert not Scan.objects.exists()


# --- batch --------------------------------------------------------------------------------


def test_batch_accepts_the_qr_codes_text_and_stores_bad_tickets_as_refused(api, event, participant, gate, foreign_ticket):
    other = ParticipantFactory(event=event)
    good = token_body(participant, gate, ticket_qr_text(participant))
    forgery = token_body(other, gate, forged(ticket_qr_text(other)))
    foreign = token_body(other, gate, foreign_ticket)
    response = api.post(BATCH, {"scans": [good, forgery, foreign]})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [s["scanId"] for s in answer["successful"]] == [good["scanId"]]
    assert answer["successful"][0]["participant"]["id"] == str(participant.public_id)
    assert sorted((f["scanId"], f["error"]["code"]) for f in answer["failed"]) == sorted(
        [(forgery["scanId"], "invalid_ticket"), (foreign["scanId"], "invalid_ticket")]
    )
    for refused in (forgery, foreign):
        scan = Scan.objects.get(scan_id=refused["scanId"])
        assert (scan.result, scan.reason, scan.participant_id) == ("rejected", "invalid_ticket", None)
    assert api.post(BATCH, {"scans": [good, forgery, foreign]}).json() == answer
    assert Scan.objects.count() == 3


@pytest.mark.parametrize("form", ["bare", "printed"])
def test_batch_still_accepts_bare_and_printed_tokens(api, participant, gate, form):
    token = participant.token if form == "bare" else format_token(participant.token, "TCF26")
    answer = api.post(BATCH, {"scans": [token_body(participant, gate, token)]}).json()
    assert len(answer["successful"]) == 1, answer


# --- verify -------------------------------------------------------------------------------


def test_verify_accepts_the_qr_codes_text(api, participant):
    response = api.post(VERIFY, {"token": ticket_qr_text(participant)})
    assert response.status_code == 200, response.content
    assert response.json()["valid"] is True
    assert response.json()["participant"]["id"] == str(participant.public_id)


@pytest.mark.parametrize("tamper", ["forged_signature", "altered_token", "another_events_ticket"])
def test_verify_refuses_a_bad_ticket_with_invalid_ticket(api, participant, foreign_ticket, tamper):
    payload = {
        "forged_signature": forged(ticket_qr_text(participant)),
        "altered_token": altered_token(ticket_qr_text(participant)),
        "another_events_ticket": foreign_ticket,
    }[tamper]
    response = api.post(VERIFY, {"token": payload})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_ticket"
    assert not Scan.objects.exists()


@pytest.mark.parametrize("form", ["bare", "printed"])
def test_verify_still_accepts_bare_and_printed_tokens(api, participant, form):
    token = participant.token if form == "bare" else format_token(participant.token, "TCF26")
    assert api.post(VERIFY, {"token": token}).status_code == 200
