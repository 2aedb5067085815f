"""Statistics endpoints of the API: the same snapshot the websocket sends."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from attendance.api import docs
from events.api_errors import NOT_FOUND
from gates.authentication import DeviceApiKeyAuthentication
from gates.models import Device


class EventMemberView(APIView):
    """Members of the event's organization (session) or the event's own gate devices (API key).

    Anyone else gets 404 (no existence leak); a device key of another event gets 403.
    """

    authentication_classes = [DeviceApiKeyAuthentication, SessionAuthentication]

    def get_event(self, request, slug):
        if isinstance(request.auth, Device):
            if request.auth.event.slug != slug:
                raise PermissionDenied("This device key belongs to another event.")
            return request.auth.event
        event = selectors.member_event(user=request.user, slug=slug)
        if event is None:
            raise NotFound("No such event.")
        return event


READ_ERRORS = {
    401: docs.UNAUTHORIZED,
    403: docs.FOREIGN_EVENT,
    404: docs.error_response("Signed in, but not a member of the event's organisation (or no such event).", NOT_FOUND),
}
WHO_MAY_READ = (
    "Readable with the event's device key (`Authorization: Api-Key <key>`) or by a signed-in member of the event's organisation."
)


class EventStatsView(EventMemberView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
        summary="Live statistics: overall, per gate, per hour, per method",
        description="The event's live numbers, in the same shape the dashboard's websocket sends "
        "(`stats.updated`): totals (checked in, inside now, refused), per gate, per hour and per scan method. " + WHO_MAY_READ,
    )
    def get(self, request, slug):
        return Response(selectors.stats_snapshot(event=self.get_event(request, slug)))


class RealtimeAnalyticsView(EventMemberView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
        summary="Compact realtime attendance and gate status",
        description="`{participants: {total}, attendance: {current, rate}, gates: [{id, status, throughput}]}`: "
        "how many are registered, how many are inside now and what share that is, and each gate's status "
        "and recent throughput. " + WHO_MAY_READ,
    )
    def get(self, request, slug):
        return Response(selectors.realtime_summary(event=self.get_event(request, slug)))
