"""Gate API views: authenticate the device, validate the body, call one service or selector."""

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated, PermissionDenied
from rest_framework.response import Response
from rest_framework.utils import json as strict_json
from rest_framework.views import APIView

from attendance import selectors, services
from attendance.api import docs
from attendance.api import serializers as s
from attendance.api.verdicts import batch_body, verdict_response
from gates.authentication import HOW_TO_SEND, DeviceApiKeyAuthentication, IsGateDevice


class GateDeviceView(APIView):
    """Gate endpoints: device keys only; nothing else (no session, no throttle layers) on the path."""

    authentication_classes = [DeviceApiKeyAuthentication]
    permission_classes = [IsGateDevice]

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise NotAuthenticated(f"No device key was sent. {HOW_TO_SEND}")
        super().permission_denied(request, message=message, code=code)

    def device_event(self, request, slug: str):
        event = request.auth.event
        if event.slug != slug:
            raise PermissionDenied("This device key belongs to another event.")
        return event


class RecordScanView(GateDeviceView):
    def dispatch(self, request, *args, **kwargs):
        """The common case — a device posting a well-formed scan — without DRF's request cycle.

        Content negotiation, the Request wrapper, parsers and the renderer cost a third of a
        check-in's Python time (bench/checkin). Anything unusual (another method or media
        type, no or a bad key, unreadable JSON, an invalid body) goes through DRF's own
        dispatch, before any side effect, and gets its usual answer. Both paths call the same
        service and answer its verdict with the same verdict_response(): there is no second
        translation of verdicts or errors here.
        """
        if request.method != "POST" or request.content_type != "application/json" or request.encoding not in (None, "utf-8"):
            return super().dispatch(request, *args, **kwargs)
        try:
            authenticated = DeviceApiKeyAuthentication().authenticate(request)
            # As DRF's JSONParser reads it: strict UTF-8, and no NaN or Infinity.
            scan = s.parse_scan(strict_json.loads(request.body.decode("utf-8")))
        except (APIException, ValueError, RequestDataTooBig):
            return super().dispatch(request, *args, **kwargs)
        if authenticated is None:
            return super().dispatch(request, *args, **kwargs)
        return verdict_response(services.record_scan(device=authenticated[1], scan=scan))

    @extend_schema(
        operation_id="attendance_record",
        request=s.ScanSerializer,
        responses={201: s.ScanRecordSerializer, **docs.record_responses()},
        summary="Record one scan (check-in or exit)",
        description=docs.RECORD_DESCRIPTION,
    )
    def post(self, request):
        return verdict_response(services.record_scan(device=request.auth, scan=s.parse_scan(request.data)))


class RecordBatchView(GateDeviceView):
    @extend_schema(
        operation_id="attendance_batch",
        request=s.BatchRequestSerializer,
        responses={
            200: s.BatchResultSerializer,
            400: docs.error_response(
                "The envelope is invalid (no `scans` list, or too many scans); nothing is stored. An invalid "
                "scan inside a valid envelope fails alone, in `failed`.",
                docs.INVALID,
                docs.MALFORMED_JSON,
                docs.BATCH_TOO_LARGE,
            ),
            401: docs.UNAUTHORIZED,
            413: docs.TOO_LARGE,
            415: docs.WRONG_MEDIA_TYPE,
        },
        summary="Record an offline device's scans (up to 1000), each with its own verdict",
        description=docs.BATCH_DESCRIPTION,
        examples=[docs.BATCH_EXAMPLE],
    )
    def post(self, request):
        envelope = s.BatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        scans, invalid = s.parse_batch_items(envelope.validated_data["scans"])
        outcomes = services.record_batch(device=request.auth, scans=scans)
        return Response(batch_body(outcomes, invalid=invalid), status=status.HTTP_200_OK)


class TokenVerifyView(GateDeviceView):
    @extend_schema(
        operation_id="tokens_verify",
        request=s.TokenVerifySerializer,
        responses={
            200: s.TokenVerifyResultSerializer,
            400: docs.error_response(
                "The body is invalid, or the QR text is not a valid ticket of this event.",
                docs.INVALID,
                docs.MALFORMED_JSON,
                docs.INVALID_TICKET,
            ),
            401: docs.UNAUTHORIZED,
            404: docs.error_response("Nobody in the device's event holds this token.", docs.TOKEN_NOT_FOUND),
            413: docs.TOO_LARGE,
            415: docs.WRONG_MEDIA_TYPE,
        },
        summary="Whose ticket is this? (records nothing)",
        description=docs.VERIFY_DESCRIPTION,
    )
    def post(self, request):
        serializer = s.TokenVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = request.auth.event
        token = services.ticket_token(serializer.validated_data["token"], event=event)
        return Response(selectors.ticket_summary(event=event, token=token))


class GateSyncView(GateDeviceView):
    @extend_schema(
        operation_id="events_gate_sync",
        parameters=[OpenApiParameter("cursor", str, description="`nextCursor` of the previous page; omit for a full sync.")],
        responses={
            200: s.GateSyncSerializer,
            400: docs.error_response("The cursor is not one this server issued.", docs.INVALID_CURSOR),
            401: docs.UNAUTHORIZED,
            403: docs.FOREIGN_EVENT,
        },
        summary="Participants changed since a cursor, the gates and the event's public key (offline mode)",
        description=docs.GATE_SYNC_DESCRIPTION,
    )
    def get(self, request, slug: str):
        event = self.device_event(request, slug)
        return Response(selectors.gate_sync_page(event=event, cursor=request.query_params.get("cursor") or None))
