"""The ticket's QR: its signed text, the text's verification, its images and the public QR link.

The QR text (the "payload" of docs/tickets.md, documented there for tablet developers with a test vector):

    GH1:<TOKEN>:<SIGNATURE>

`GH1` is the format version; TOKEN is the participant's 30-symbol Crockford base32 token;
SIGNATURE is the Ed25519 signature, RFC 4648 base32 without padding (103 symbols), over the
bytes `b"GH1" + event_public_key (32 raw bytes) + TOKEN (ASCII)`. Every character is in the
QR alphanumeric set (0-9 A-Z : …), so the 138-character payload fits a version 6-M code
(41×41 modules). Signing the event's public key binds a ticket to its event: a ticket from
another event fails even if someone copied its token.
"""

import base64
import binascii
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import segno
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from events.errors import DomainError
from events.models import Event
from events.signing import is_valid_signature, sign
from participants.models import Participant
from participants.tokens import ALPHABET, TOKEN_LENGTH

VERSION = "GH1"
SIGNATURE_LENGTH = 103  # 64 bytes in unpadded base32
_QR_TEXT = re.compile(rf"^{VERSION}:([{ALPHABET}]{{{TOKEN_LENGTH}}}):([A-Z2-7]{{{SIGNATURE_LENGTH}}})$")
QR_ERROR_LEVEL = "m"  # 15 % of the code may be smudged or covered and it still reads
QR_LINK_SALT = "participants.ticket-qr-link"


class InvalidTicket(DomainError):
    code = "invalid_ticket"


def _signed_message(*, token: str, public_key: bytes) -> bytes:
    return VERSION.encode() + bytes(public_key) + token.encode("ascii")


def signed_qr_text(*, token: str, event: Event) -> str:
    """The text a ticket's QR code carries: token signed with the event's private key."""
    signature = sign(event.signing_private_key, _signed_message(token=token, public_key=event.signing_public_key))
    encoded = base64.b32encode(signature).decode("ascii").rstrip("=")
    return f"{VERSION}:{token}:{encoded}"


def ticket_qr_text(participant: Participant) -> str:
    """The text the participant's ticket QR carries (see signed_qr_text)."""
    return signed_qr_text(token=participant.token, event=participant.event)


def verify_ticket(qr_text: str, public_key: bytes) -> str:
    """Return the token of a well-formed ticket signed for the event with `public_key`.

    Raises InvalidTicket for anything else: wrong version or shape, tampered token or
    signature, a ticket of another event. Needs nothing but the public key (offline gates).
    """
    match = _QR_TEXT.match(qr_text.strip()) if isinstance(qr_text, str) else None
    if not match:
        raise InvalidTicket("Not a Gatehouse ticket.", details={"reason": "format"})
    token, encoded = match.groups()
    try:
        signature = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error as exc:
        raise InvalidTicket("Not a Gatehouse ticket.", details={"reason": "format"}) from exc
    if base64.b32encode(signature).decode("ascii").rstrip("=") != encoded:
        # The last symbol carries 3 unused bits; decoders ignore them, so without this check
        # four different payloads would verify as the same ticket.
        raise InvalidTicket("Not a Gatehouse ticket.", details={"reason": "format"})
    if not is_valid_signature(public_key, _signed_message(token=token, public_key=public_key), signature):
        raise InvalidTicket("The ticket's signature does not match this event.", details={"reason": "signature"})
    return token


# --- QR images ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QrStyle:
    scale: int = 6  # pixels per module: 41 modules + 2×4 border → 294 px, sharp on any phone
    border: int = 4  # the quiet zone the QR standard asks for


DEFAULT_STYLE = QrStyle()


def make_qr(qr_text: str) -> segno.QRCode:
    # micro=False: Micro QR cannot hold a signature and many tablet scanners cannot read it.
    # The mask: segno scores all 8 patterns by default, which is most of the render time
    # (bench/email: 4-5x slower). Our data — packed token and signature bits plus error correction — is
    # random-looking, so the patterns score alike and one fixed, standard-conformant pattern
    # reads as well; TICKET_QR_MASK="auto" restores the search.
    mask = None if settings.TICKET_QR_MASK == "auto" else int(settings.TICKET_QR_MASK)
    return segno.make(qr_text, error=QR_ERROR_LEVEL, micro=False, mask=mask)


def render_png(qr_text: str, *, style: QrStyle = DEFAULT_STYLE) -> bytes:
    buffer = io.BytesIO()
    make_qr(qr_text).save(buffer, kind="png", scale=style.scale, border=style.border)
    return buffer.getvalue()


def render_svg(qr_text: str, *, style: QrStyle = DEFAULT_STYLE) -> bytes:
    buffer = io.BytesIO()
    make_qr(qr_text).save(buffer, kind="svg", scale=style.scale, border=style.border, xmldecl=False, svgns=True)
    return buffer.getvalue()


def participant_qr_png(participant: Participant) -> bytes:
    """The participant's ticket QR as PNG, cached: encoding the QR is most of the cost of a send."""
    # The QR text is deterministic (Ed25519), so token + public key identify the image.
    key = (
        f"ticket-qr:png:{participant.token}:{bytes(participant.event.signing_public_key).hex()[:16]}"
        f":{settings.TICKET_QR_MASK}:{DEFAULT_STYLE.scale}:{DEFAULT_STYLE.border}"
    )
    png = cache.get(key)
    if png is None:
        png = render_png(ticket_qr_text(participant))
        cache.set(key, png, timeout=settings.TICKET_QR_CACHE_SECONDS)
    return png


def participant_qr_svg(participant: Participant) -> bytes:
    return render_svg(ticket_qr_text(participant))


# --- The public QR link ------------------------------------------------------------------


def qr_link_token(participant: Participant) -> str:
    """An unguessable, unforgeable id for the participant's public QR page."""
    return signing.dumps(str(participant.public_id), salt=QR_LINK_SALT, compress=False)


def qr_link_path(participant: Participant, *, kind: str = "png") -> str:
    return reverse("ticket-qr", kwargs={"signed": qr_link_token(participant), "kind": kind})


def qr_link_url(participant: Participant, *, kind: str = "png") -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + qr_link_path(participant, kind=kind)


def participant_for_qr_link(signed: str) -> Participant | None:
    """The participant a QR link names, or None if it is forged, the ticket void or the event over.

    The expiry is read from the event, not from the link, so moving the event moves it too.
    """
    try:
        public_id = signing.loads(signed, salt=QR_LINK_SALT)
    except signing.BadSignature:
        return None
    participant = (
        Participant.objects.select_related("event").filter(public_id=public_id, status__in=Participant.GOOD_STANDING).first()
    )
    if participant is None:
        return None
    event = participant.event
    if timezone.now() > event.ends_at + timedelta(seconds=event.checkin_grace_seconds):
        return None
    return participant
