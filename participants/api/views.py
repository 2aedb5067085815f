"""Participant API: register one participant, or many at once, for an event (organisation editors)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from events.access import can_edit_organization, can_view_organization
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


class ParticipantListView(APIView):
    @extend_schema(
        request=ParticipantInSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
        description="Register one participant; 201 with its token, 409 duplicate_email, 400 with field errors.",
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
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        description="Create or update up to 1000 participants as an import would; results and errors by index.",
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
