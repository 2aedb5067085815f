"""Statistics endpoints of the API: the same snapshot the websocket sends."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
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


class EventStatsView(EventMemberView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Live statistics: overall, per gate, per hour, per method")
    def get(self, request, slug):
        return Response(selectors.stats_snapshot(event=self.get_event(request, slug)))


class RealtimeAnalyticsView(EventMemberView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Compact realtime attendance and gate status")
    def get(self, request, slug):
        return Response(selectors.realtime_summary(event=self.get_event(request, slug)))
