"""The signed ticket payload: format, verification, and the documented test vector."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from events.signing import generate_keypair
from participants.tickets.qr import InvalidTicket, make_qr, signed_qr_text, ticket_qr_text, verify_ticket
from tests.factories import EventFactory, ParticipantFactory

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tickets.md"


def _documented(name: str) -> str:
    match = re.search(rf"^\| {re.escape(name)} \| `([^`]+)` \|$", DOCS.read_text(), re.MULTILINE)
    assert match, f"docs/tickets.md lost its test vector row {name!r}"
    return match.group(1)


def _event_with_new_keys():
    private, public = generate_keypair()
    return SimpleNamespace(signing_private_key=private, signing_public_key=public)


def test_documented_test_vector_is_what_the_code_produces_and_verifies():
    event = SimpleNamespace(
        signing_private_key=bytes.fromhex(_documented("private key (hex)")),
        signing_public_key=bytes.fromhex(_documented("public key (hex)")),
    )
    token = _documented("token")
    payload = _documented("payload")

    assert signed_qr_text(token=token, event=event) == payload
    assert verify_ticket(payload, event.signing_public_key) == token


def test_a_signed_ticket_verifies_with_the_public_key_alone():
    event = _event_with_new_keys()
    payload = signed_qr_text(token="ABCDE12345FGHJK67890MNPQRSTVWX", event=event)

    assert verify_ticket(payload, event.signing_public_key) == "ABCDE12345FGHJK67890MNPQRSTVWX"


def test_a_ticket_with_a_changed_token_fails():
    event = _event_with_new_keys()
    payload = signed_qr_text(token="ABCDE12345FGHJK67890MNPQRSTVWX", event=event)
    tampered = payload.replace("ABCDE", "ABCDF", 1)

    with pytest.raises(InvalidTicket) as error:
        verify_ticket(tampered, event.signing_public_key)
    assert error.value.code == "invalid_ticket"
    assert error.value.details == {"reason": "signature"}


def test_a_ticket_with_a_changed_signature_fails():
    event = _event_with_new_keys()
    payload = signed_qr_text(token="ABCDE12345FGHJK67890MNPQRSTVWX", event=event)
    middle = len(payload) - 50
    tampered = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]

    with pytest.raises(InvalidTicket) as error:
        verify_ticket(tampered, event.signing_public_key)
    assert error.value.details == {"reason": "signature"}


def test_a_signature_with_its_unused_last_bits_set_is_refused():
    event = _event_with_new_keys()
    payload = signed_qr_text(token="ABCDE12345FGHJK67890MNPQRSTVWX", event=event)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    # The 103rd symbol holds 2 signature bits and 3 unused ones: +1 changes only unused bits.
    same_bits = payload[:-1] + alphabet[alphabet.index(payload[-1]) + 1]

    with pytest.raises(InvalidTicket) as error:
        verify_ticket(same_bits, event.signing_public_key)
    assert error.value.details == {"reason": "format"}


def test_a_ticket_of_another_event_fails():
    ours, theirs = _event_with_new_keys(), _event_with_new_keys()
    foreign = signed_qr_text(token="ABCDE12345FGHJK67890MNPQRSTVWX", event=theirs)

    with pytest.raises(InvalidTicket):
        verify_ticket(foreign, ours.signing_public_key)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "ABCDE12345FGHJK67890MNPQRSTVWX",
        "GH2:ABCDE12345FGHJK67890MNPQRSTVWX:" + "A" * 103,
        "GH1:ABCDE12345FGHJK67890MNPQRSTVWX:" + "A" * 102,
        "GH1:abcde12345fghjk67890mnpqrstvwx:" + "A" * 103,
        "GH1:ABCDE12345FGHJK67890MNPQRSTVWU:" + "A" * 103,  # U is not in the token alphabet
        None,
    ],
)
def test_malformed_payloads_are_refused_as_format_errors(payload):
    event = _event_with_new_keys()
    with pytest.raises(InvalidTicket) as error:
        verify_ticket(payload, event.signing_public_key)
    assert error.value.details == {"reason": "format"}


@pytest.mark.django_db
def test_a_participants_qr_payload_fits_a_version_6_alphanumeric_code():
    participant = ParticipantFactory(event=EventFactory())
    payload = ticket_qr_text(participant)
    qr = make_qr(payload)

    assert len(payload) == 138
    assert qr.mode == "alphanumeric"
    assert qr.version <= 6
