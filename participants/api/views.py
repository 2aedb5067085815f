"""Participant API: register one participant, or many at once, for an event (organisation editors)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from events.access import can_edit_organization, can_view_organization
from events.api_errors import INVALID, MALFORMED_JSON, NOT_FOUND, error_example, error_response
from events.errors import DomainError
from events.models import Event
from participants import services
from participants.api.serializers import (
    FIELD_TO_WIRE,
    BulkParticipantsInSerializer,
    ParticipantInSerializer,
    participant_out,
    wire_errors,
    wire_to_fields,
)


def editable_event(request, slug: str) -> Event:
    event = get_object_or_404(Event, slug=slug)
    if not can_view_organization(request.user, event.organization_id):
        raise Http404  # not a member: the event does not exist for them
    if not can_edit_organization(request.user, event.organization_id):
        raise PermissionDenied("Only organisation owners and managers may register participants.")
    return event


WHO_MAY_WRITE = "For a signed-in owner or manager of the event's organisation (session and CSRF token, as in the admin)."
FIELD_ERRORS = error_example(
    "invalid",
    "Invalid input: email",
    {"email": [{"code": "invalid_email", "message": "Not a valid email address."}]},
)
WRITE_ERRORS = {
    403: error_response(
        "Not signed in, or a member who may not register participants.",
        error_example("not_authenticated", "Authentication credentials were not provided."),
        error_example("permission_denied", "Only organisation owners and managers may register participants."),
    ),
    404: error_response("No such event, or not a member of its organisation.", NOT_FOUND),
}


class ParticipantListView(APIView):
    @extend_schema(
        request=ParticipantInSerializer,
        responses={
            201: OpenApiTypes.OBJECT,
            400: error_response(
                "A field is invalid: `details` maps each wire field name to its errors, each with a stable `code` "
                "(the same codes an import reports, e.g. `name_required`, `invalid_email`, `invalid_phone`).",
                FIELD_ERRORS,
                MALFORMED_JSON,
            ),
            409: error_response(
                "Already registered in this event.",
                error_example(
                    "duplicate_email",
                    "A participant with this email is already registered.",
                    {"email": [{"code": "duplicate_email", "message": "Already registered for this event."}]},
                ),
                error_example(
                    "duplicate_external_id",
                    "A participant with this external id is already registered.",
                    {"externalId": [{"code": "duplicate_external_id", "message": "Already used in this event."}]},
                ),
            ),
            **WRITE_ERRORS,
        },
        summary="Register one participant",
        description="Registers a participant (status `registered`) and answers `201` with the participant, "
        "including `token` and the printed `ticketCode`. The email is unique per event, ignoring case. " + WHO_MAY_WRITE,
    )
    def post(self, request, slug: str):
        event = editable_event(request, slug)
        body = ParticipantInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            participant = services.register_participant(event=event, **wire_to_fields(body.validated_data))
        except DomainError as exc:
            exc.details = wire_errors(exc.details)
            raise
        return Response(participant_out(participant), status=status.HTTP_201_CREATED)


class ParticipantBulkView(APIView):
    @extend_schema(
        request=BulkParticipantsInSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: error_response(
                "The envelope is invalid (no `participants` list, empty, or more than 1000); nothing is stored. "
                "A bad item does not fail the request: it is listed in `errors` with its index.",
                INVALID,
                MALFORMED_JSON,
            ),
            **WRITE_ERRORS,
        },
        summary="Register or update up to 1000 participants",
        description="Creates or updates participants as a spreadsheet import would (matched by email within the "
        "event) and answers `{created, updated, duplicates, errors}`, each entry with its `index` in the "
        "request; `errors` carry the field and a stable `code`. " + WHO_MAY_WRITE,
    )
    def post(self, request, slug: str):
        event = editable_event(request, slug)
        body = BulkParticipantsInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = [wire_to_fields(item) for item in body.validated_data["participants"]]
        result = services.register_participants(event=event, items=items)
        return Response(
            {
                "created": [{"index": i, **participant_out(p)} for i, p in result.created],
                "updated": [{"index": i, **participant_out(p)} for i, p in result.updated],
                "duplicates": [{"index": i, "email": email} for i, email in result.duplicates],
                "errors": [
                    {"index": i, "field": FIELD_TO_WIRE.get(e.column, e.column), "code": e.code, "message": e.message}
                    for i, e in result.errors
                ],
            },
            status=status.HTTP_200_OK,
        )
