"""The welcome email as it arrives at a real SMTP server: headers, parts, QR inline and attached."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image

from events.models import Event
from participants.models import Participant
from participants.tickets.emails import queue_welcome_emails
from participants.tickets.qr import verify_ticket
from participants.tokens import format_token
from tests.factories import EventFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def _send(participant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_welcome_emails(participant_ids=[participant.pk]) == 1
    participant.refresh_from_db()


def _parts(message):
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


@pytest.fixture
def english_event():
    return EventFactory(
        name="Tech Conference 2026",
        language=Event.Language.ENGLISH,
        venue="COEX Hall B",
        token_prefix="TC26",
        timezone="Asia/Seoul",
        starts_at=datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("UTC")),  # 09:30 in Seoul
        ends_at=datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("UTC")),
    )


def test_the_email_arrives_with_headers_matching_the_participant(smtp_server, english_event, django_capture_on_commit_callbacks):
    participant = ParticipantFactory(event=english_event, name="Jane Doe", email="jane@example.com")

    _send(participant, django_capture_on_commit_callbacks)

    (message,) = smtp_server.messages
    assert message["To"] == "jane@example.com"
    assert message["Subject"] == "Your ticket for Tech Conference 2026"
    assert "tickets@gatehouse.localhost" in message["From"]
    assert message["Message-ID"] == participant.email_message_id
    assert participant.email_status == Participant.EmailStatus.SENT
    assert participant.email_sent_at is not None


def test_the_email_has_text_and_html_parts_with_event_details_in_its_time_zone(
    smtp_server, english_event, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory(event=english_event, name="Jane Doe")

    _send(participant, django_capture_on_commit_callbacks)

    parts = _parts(smtp_server.messages[0])
    printed = format_token(participant.token, "TC26")
    for content_type in ("text/plain", "text/html"):
        body = parts[content_type].get_content()
        assert "Tech Conference 2026" in body
        assert "Jane Doe" in body
        assert "COEX Hall B" in body
        assert printed in body
        assert "9:30" in body  # 00:30 UTC shown in Asia/Seoul
        assert "Asia/Seoul" in body
    assert 'src="cid:ticket-qr"' in parts["text/html"].get_content()
    assert "/tickets/" in parts["text/plain"].get_content()


def test_the_html_and_inline_qr_are_related_and_the_png_is_also_attached(
    smtp_server, english_event, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory(event=english_event)

    _send(participant, django_capture_on_commit_callbacks)

    message = smtp_server.messages[0]
    assert message.get_content_type() == "multipart/mixed"
    related, attachment = message.get_payload()
    assert related.get_content_type() == "multipart/related"
    alternative, inline = related.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert inline["Content-ID"] == "<ticket-qr>"
    assert inline.get_content_disposition() == "inline"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == f"ticket-{english_event.slug}.png"
    assert attachment.get_content() == inline.get_content()


def test_the_qr_in_the_received_email_decodes_and_verifies_with_the_event_public_key(
    smtp_server, english_event, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory(event=english_event)

    _send(participant, django_capture_on_commit_callbacks)

    message = smtp_server.messages[0]
    attachment = next(message.iter_attachments())
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(attachment.get_content())))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert verify_ticket(barcode.text, bytes(english_event.signing_public_key)) == participant.token


def test_a_korean_event_gets_the_korean_email(smtp_server, django_capture_on_commit_callbacks):
    event = EventFactory(name="개발자 컨퍼런스", language=Event.Language.KOREAN, venue="코엑스")
    participant = ParticipantFactory(event=event, name="김민수")

    _send(participant, django_capture_on_commit_callbacks)

    message = smtp_server.messages[0]
    assert message["Subject"] == "[개발자 컨퍼런스] 입장권 안내"
    parts = _parts(message)
    assert "김민수님, 안녕하세요." in parts["text/plain"].get_content()
    assert "입장권 번호" in parts["text/html"].get_content()
    assert "코엑스" in parts["text/html"].get_content()
