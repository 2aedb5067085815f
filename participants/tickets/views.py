"""The public ticket QR link from the welcome email: no login, but only a signed link opens it."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from participants.tickets.qr import participant_for_qr_link, participant_qr_png, participant_qr_svg

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@require_GET
def qr_image(request, signed: str, kind: str):
    participant = participant_for_qr_link(signed)
    if participant is None:
        raise Http404("No such ticket.")
    body = participant_qr_png(participant) if kind == "png" else participant_qr_svg(participant)
    response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
    # A ticket is personal: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
