"""Bounces: recording one (`record_bounce`), and the mail provider's webhook POST /api/v1/email/bounces (shared-secret auth)."""

import hmac

from django.conf import settings
from django.db.models import Q
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api_errors import MALFORMED_JSON, error_example, error_response
from participants.models import Participant


def record_bounce(*, message_id: str = "", event_slug: str = "", email: str = "", reason: str = "") -> int:
    """Mark the addressed participant(s) bounced; return how many rows matched.

    Matches by Message-ID (what a DSN quotes) or by event slug + email. A bounced participant
    gets no further sends until an organiser corrects the address.
    """
    if message_id:
        match = Q(email_message_id=message_id.strip())
    elif event_slug and email:
        match = Q(event__slug=event_slug, email__iexact=email.strip())
    else:
        return 0
    return Participant.objects.filter(match).update(
        email_status=Participant.EmailStatus.BOUNCED,
        email_last_error=("bounced: " + reason)[:2000],
        email_next_attempt_at=None,
    )


class BounceSecretAuthentication(BaseAuthentication):
    """`Authorization: Bearer <EMAIL_BOUNCE_SECRET>`; with no secret configured nobody gets in."""

    def authenticate(self, request):
        expected = settings.EMAIL_BOUNCE_SECRET
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise AuthenticationFailed("A valid bounce secret is required.")
        return (None, "bounce-secret")

    def authenticate_header(self, request):
        return "Bearer"


class BounceSecretScheme(OpenApiAuthenticationExtension):
    target_class = BounceSecretAuthentication
    name = "bounceSecret"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The shared secret EMAIL_BOUNCE_SECRET."}


class BounceSerializer(serializers.Serializer):
    messageId = serializers.CharField(required=False, allow_blank=True, max_length=255)  # noqa: N815 - API field name
    event = serializers.SlugField(required=False, allow_blank=True, max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs):
        if not attrs.get("messageId") and not (attrs.get("event") and attrs.get("email")):
            raise serializers.ValidationError({"messageId": ["Give messageId, or event and email."]})
        return attrs


class BounceView(APIView):
    authentication_classes = [BounceSecretAuthentication]
    permission_classes: list = []

    @extend_schema(
        request=BounceSerializer,
        responses={
            200: inline_serializer("BounceResult", {"bounced": serializers.IntegerField()}),
            400: error_response(
                "Neither `messageId` nor `event` with `email` was given.",
                error_example("invalid", "Invalid input: messageId", {"messageId": ["Give messageId, or event and email."]}),
                MALFORMED_JSON,
            ),
            401: error_response(
                "Without the right shared secret (also when none is configured).",
                error_example("authentication_failed", "A valid bounce secret is required."),
            ),
        },
        summary="Record a bounce: the participant is marked bounced and gets no further sends.",
        description="For the mail provider's bounce webhook, with `Authorization: Bearer <EMAIL_BOUNCE_SECRET>`. "
        "Identify the email by its `messageId` (the welcome email's Message-ID, angle brackets included) or by "
        "`event` slug and `email`. Answers `200 {bounced: N}` even when nothing matched, so the provider does "
        "not retry.",
    )
    def post(self, request):
        serializer = BounceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bounced = record_bounce(
            message_id=data.get("messageId", ""),
            event_slug=data.get("event", ""),
            email=data.get("email", ""),
            reason=data.get("reason", ""),
        )
        # 200 even when nothing matched: a provider retries non-2xx answers forever.
        return Response({"bounced": bounced})
