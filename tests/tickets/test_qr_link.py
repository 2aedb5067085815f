"""The public QR link: works without login, cannot be forged, expires after the event."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from participants.models import Participant
from participants.tickets.qr import qr_link_path, verify_ticket
from tests.factories import EventFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def test_the_png_link_serves_a_qr_that_verifies_without_login(client):
    participant = ParticipantFactory()

    response = client.get(qr_link_path(participant, kind="png"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert verify_ticket(decoded.text, bytes(participant.event.signing_public_key)) == participant.token


def test_the_svg_link_serves_svg(client):
    participant = ParticipantFactory()

    response = client.get(qr_link_path(participant, kind="svg"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_a_forged_link_is_not_found(client):
    participant = ParticipantFactory()
    path = qr_link_path(participant, kind="png")
    signed = path.split("/")[2]
    forged = path.replace(signed, signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB"))

    assert client.get(forged).status_code == 404


def test_the_link_expires_after_the_event_and_its_grace_period(client):
    event = EventFactory(
        starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1), checkin_grace_seconds=3600
    )
    participant = ParticipantFactory(event=event)

    assert client.get(qr_link_path(participant, kind="png")).status_code == 404


def test_the_link_of_a_cancelled_participant_is_not_found(client):
    participant = ParticipantFactory(status=Participant.Status.CANCELLED)

    assert client.get(qr_link_path(participant, kind="png")).status_code == 404


@pytest.mark.parametrize("mask", ["0", "auto"])
def test_the_qr_decodes_with_the_fixed_mask_and_with_the_mask_search(client, settings, mask):
    settings.TICKET_QR_MASK = mask
    participant = ParticipantFactory()

    response = client.get(qr_link_path(participant, kind="png"))

    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert verify_ticket(decoded.text, bytes(participant.event.signing_public_key)) == participant.token
