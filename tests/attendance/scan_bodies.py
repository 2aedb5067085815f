"""The body a gate tablet posts for one scan."""

import uuid

from django.utils import timezone


def scan_body(participant, gate, *, at=None, method="qr_scan", **extra):
    body = {
        "participantId": str(participant.public_id),
        "gateId": gate.code,
        "timestamp": (at or timezone.now()).isoformat(),
        "method": method,
        "scanId": str(uuid.uuid4()),
    }
    body.update(extra)
    return body
